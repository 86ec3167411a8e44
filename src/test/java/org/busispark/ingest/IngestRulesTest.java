package org.busispark.ingest;

import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.busispark.model.Origin;
import java.util.function.IntBinaryOperator;

import static org.busispark.ingest.IngestRules.Status.*;
import static org.junit.jupiter.api.Assertions.*;

class IngestRulesTest {
    private static final BusiConfig.Ingest SETTINGS = ConfigLoader.defaults().ingest();
    private static final List<String> CLASSES = List.of("benign", "malignant", "normal");
    private static final int SIDE = 40;
    private static final String DIR = "file:/data/busi/benign/";

    private static IngestRules.SourceFile file(String path, byte[] content) {
        return new IngestRules.SourceFile(path, SourceLayout.classify(path, CLASSES), content,
                content == null ? 0 : content.length, null, null, Origin.UNKNOWN);
    }

    private static byte[] png(IntBinaryOperator value) {
        return ImageCodecTest.write(ImageCodecTest.gray(SIDE, SIDE, value), "png");
    }

    private static final byte[] IMAGE = png((x, y) -> (x * 5 + y * 3) & 0xff);

    /** Resolves and checks that every input file yields exactly one outcome, matched by path. */
    private static List<IngestRules.Outcome> resolve(boolean requireLabel, IngestRules.SourceFile... files) {
        List<IngestRules.Outcome> out = IngestRules.resolve(List.of(files), SETTINGS, requireLabel, true);
        assertEquals(files.length, out.size());
        List<String> in = new ArrayList<>(Arrays.stream(files).map(IngestRules.SourceFile::path).sorted().toList());
        assertEquals(in, out.stream().map(IngestRules.Outcome::sourcePath).sorted().toList());
        return out;
    }

    private static IngestRules.Outcome only(List<IngestRules.Outcome> outcomes, IngestRules.Status status) {
        List<IngestRules.Outcome> matching = outcomes.stream().filter(o -> o.status() == status).toList();
        assertEquals(1, matching.size(), () -> "outcomes: " + outcomes);
        return matching.get(0);
    }

    @Test
    void imageWithTwoMasksIsAcceptedWithMergedMask() {
        List<IngestRules.Outcome> out = resolve(true,
                file(DIR + "benign%20(1)_mask.png", png((x, y) -> x < 20 ? 100 : 0)),
                file(DIR + "benign%20(1).png", IMAGE),
                file(DIR + "benign%20(1)_mask_1.png", png((x, y) -> y < 10 ? 200 : 0)));

        IngestRules.Outcome accepted = only(out, ACCEPTED);
        assertEquals("benign", accepted.label());
        assertEquals(IMAGE.length, accepted.size());
        DecodedImage image = ImageCodec.decodePng(IMAGE);
        assertArrayEquals(image.gray(), accepted.image().gray());
        assertEquals(ImageCodec.contentHash(image), accepted.imageId());
        assertEquals(PerceptualHash.of(image), accepted.phash());

        DecodedImage mask = ImageCodec.decodePng(accepted.maskPng());
        assertEquals(SIDE, mask.width());
        for (int i = 0; i < mask.gray().length; i++) {
            int x = i % SIDE, y = i / SIDE;
            int expected = y < 10 ? 200 : x < 20 ? 100 : 0;
            assertEquals(expected, mask.gray()[i] & 0xff, "mask pixel " + x + "," + y);
        }

        List<IngestRules.Outcome> skipped = out.stream().filter(o -> o.status() == SKIPPED).toList();
        assertEquals(2, skipped.size());
        skipped.forEach(o -> assertEquals("mask-merged", o.reason()));
    }

    @Test
    void scoringGetsTheSameDecodedImageAndIdWithoutTheDatasetsExtras() {
        java.awt.image.BufferedImage colour = new java.awt.image.BufferedImage(SIDE, SIDE,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                colour.setRGB(x, y, (x * 7 & 0xff) << 16 | (y * 5 & 0xff) << 8 | 90);
            }
        }
        byte[] rgb = ImageCodecTest.write(colour, "png");
        IngestRules.SourceFile file = file(DIR + "b.png", rgb);
        IngestRules.Outcome full = only(IngestRules.resolve(List.of(file), SETTINGS, true, true), ACCEPTED);
        IngestRules.Outcome light = only(IngestRules.resolve(List.of(file), SETTINGS, true, false), ACCEPTED);
        assertEquals(full.imageId(), light.imageId());
        assertArrayEquals(full.image().gray(), light.image().gray());
        assertNotNull(full.png(), "ingest re-encodes a colour PNG to 8-bit gray");
        assertNull(light.png(), "scoring does not");
        assertEquals(0, light.phash());
    }

    @Test
    void imageWithoutMaskHasNoMask() {
        assertNull(only(resolve(true, file(DIR + "a.png", IMAGE)), ACCEPTED).maskPng());
    }

    @Test
    void maskOfOtherSizeIsQuarantinedAndNotMerged() {
        byte[] small = ImageCodecTest.write(ImageCodecTest.gray(10, 10, (x, y) -> 255), "png");
        List<IngestRules.Outcome> out = resolve(true, file(DIR + "a.png", IMAGE), file(DIR + "a_mask.png", small));
        assertNull(only(out, ACCEPTED).maskPng());
        IngestRules.Outcome mask = only(out, QUARANTINED);
        assertEquals(DIR + "a_mask.png", mask.sourcePath());
        assertEquals("mask-size-mismatch", mask.reason());
        assertEquals("mask 10x10, image 40x40", mask.detail());
    }

    /** A corrupt mask is quarantined with its reason; the image keeps the masks that do decode. */
    @Test
    void corruptMaskIsQuarantinedAndTheOthersAreMerged() {
        byte[] broken = png((x, y) -> 255);
        List<IngestRules.Outcome> out = resolve(true, file(DIR + "a.png", IMAGE),
                file(DIR + "a_mask.png", png((x, y) -> x < 20 ? 255 : 0)),
                file(DIR + "a_mask_1.png", Arrays.copyOf(broken, broken.length / 2)));
        DecodedImage merged = ImageCodec.decodePng(only(out, ACCEPTED).maskPng());
        assertEquals(255, merged.gray()[0] & 0xff);
        assertEquals(0, merged.gray()[SIDE - 1] & 0xff, "only the good mask is in it");
        IngestRules.Outcome bad = only(out, QUARANTINED);
        assertEquals(DIR + "a_mask_1.png", bad.sourcePath());
        assertEquals("corrupt-image", bad.reason());
        assertTrue(bad.detail().startsWith("mask: "), bad.detail());
        assertEquals("mask-merged", only(out, SKIPPED).reason());
    }

    @Test
    void masksOfAQuarantinedImageAreSkippedWithThatReason() {
        byte[] broken = ImageCodecTest.noisePng(64);
        List<IngestRules.Outcome> out = resolve(true, file(DIR + "a.png", Arrays.copyOf(broken, broken.length / 2)),
                file(DIR + "a_mask.png", png((x, y) -> 255)));
        assertEquals("corrupt-image", only(out, QUARANTINED).reason());
        assertEquals("mask-of-rejected-image", only(out, SKIPPED).reason());
    }

    @Test
    void maskAloneIsQuarantined() {
        IngestRules.Outcome o = only(resolve(true, file(DIR + "a_mask.png", png((x, y) -> 255))), QUARANTINED);
        assertEquals("mask-without-image", o.reason());
    }

    @Test
    void unknownClassDependsOnRequireLabel() {
        String path = "file:/data/busi/other/x.png";
        assertEquals("unknown-class", only(resolve(true, file(path, IMAGE)), QUARANTINED).reason());
        IngestRules.Outcome accepted = only(resolve(false, file(path, IMAGE)), ACCEPTED);
        assertNull(accepted.label());
        assertNotNull(accepted.imageId());
    }

    @Test
    void corruptImageIsQuarantined() {
        byte[] png = ImageCodecTest.noisePng(64);
        IngestRules.Outcome o = only(resolve(true, file(DIR + "a.png", Arrays.copyOf(png, png.length / 2))), QUARANTINED);
        assertEquals("corrupt-image", o.reason());
        assertEquals("benign", o.label());
        assertNull(o.imageId());
    }

    @Test
    void tooSmallImageIsQuarantined() {
        byte[] tiny = ImageCodecTest.write(ImageCodecTest.gray(16, 16, (x, y) -> x), "png");
        assertEquals("too-small", only(resolve(true, file(DIR + "a.png", tiny)), QUARANTINED).reason());
    }

    @Test
    void mixedGroupReconciles() {
        List<IngestRules.Outcome> out = resolve(true,
                file(DIR + ".DS_Store", new byte[] {1, 2}),
                file(DIR + "notes.txt", "x".getBytes()),
                file(DIR + "b.png", IMAGE),
                file(DIR + "b_mask.png", png((x, y) -> 255)),
                file(DIR + "empty.png", new byte[0]));
        assertEquals(1, out.stream().filter(o -> o.status() == ACCEPTED).count());
        assertEquals(1, out.stream().filter(o -> "empty-file".equals(o.reason())).count());
        assertEquals(3, out.stream().filter(o -> o.status() == SKIPPED).count());
    }
}
