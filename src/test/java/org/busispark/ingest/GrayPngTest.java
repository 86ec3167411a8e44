package org.busispark.ingest;

import org.junit.jupiter.api.Test;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The 8-bit gray PNG fast path gives exactly what the ImageIO path gives, and declines whatever it does not handle. */
class GrayPngTest {
    private static final Path BUSI = Path.of("../shared/data/Dataset_BUSI_with_GT");
    private static final long ANY = Long.MAX_VALUE;

    private static DecodedImage imageIO(byte[] png) {
        try {
            return ImageCodec.decodeWithImageIO(png, 1, ANY);
        } catch (Rejection r) {
            throw new AssertionError("ImageIO rejected: " + r.reason() + " " + r.detail(), r);
        }
    }

    private static void assertSameImage(DecodedImage expected, DecodedImage actual) {
        assertNotNull(actual);
        assertEquals(expected.width(), actual.width(), "width");
        assertEquals(expected.height(), actual.height(), "height");
        assertEquals(expected.channels(), actual.channels(), "channels");
        assertEquals(expected.format(), actual.format(), "format");
        assertArrayEquals(expected.gray(), actual.gray(), "pixels");
    }

    /** A decoder's outcome as text: the image's fields and content hash, or the rejection and its detail. */
    private static String outcome(ImageDecoder decoder, byte[] bytes, int minSide, long maxPixels) {
        try {
            DecodedImage d = decoder.decode(bytes, minSide, maxPixels);
            return d.width() + "x" + d.height() + " " + d.channels() + " " + d.format() + " " + ImageCodec.contentHash(d);
        } catch (Rejection r) {
            return "rejected " + r.reason() + ": " + r.detail();
        }
    }

    interface ImageDecoder {
        DecodedImage decode(byte[] bytes, int minSide, long maxPixels) throws Rejection;
    }

    /** The fast path declines, and ImageCodec.decode's outcome is the ImageIO path's; returns that outcome. */
    private static String assertDeclined(byte[] png, int minSide, long maxPixels) {
        assertNull(GrayPng.decode(png, minSide, maxPixels), "fast path should decline");
        String viaImageIO = outcome(ImageCodec::decodeWithImageIO, png, minSide, maxPixels);
        assertEquals(viaImageIO, outcome(ImageCodec::decode, png, minSide, maxPixels));
        return viaImageIO;
    }

    private static String assertDeclined(byte[] png) {
        return assertDeclined(png, 1, ANY);
    }

    @Test
    void everyBusiPngDecodesAsImageIODoes() throws IOException {
        assumeTrue(Files.isDirectory(BUSI), "the shared BUSI folder is not present");
        List<Path> files;
        try (Stream<Path> s = Files.walk(BUSI)) {
            files = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        assertEquals(1340, files.size(), "images and masks");
        for (Path p : files) {
            byte[] bytes = Files.readAllBytes(p);
            DecodedImage fast = GrayPng.decode(bytes, 1, ANY);
            assertNotNull(fast, "fast path declined " + p);
            DecodedImage expected = imageIO(bytes);
            assertSameImage(expected, fast);
            assertSameImage(expected, ImageCodec.decodePng(bytes));
        }
    }

    // --- Synthetic PNGs, chunk by chunk ---

    private static byte[] chunk(String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        return ByteBuffer.allocate(12 + data.length).putInt(data.length).put(t).put(data).putInt((int) crc.getValue())
                .array();
    }

    private static byte[] ihdr(int w, int h, int bitDepth, int colourType, int interlace) {
        return chunk("IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) bitDepth).put((byte) colourType)
                .put((byte) 0).put((byte) 0).put((byte) interlace).array());
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] deflate(byte[] raw) {
        Deflater d = new Deflater();
        d.setInput(raw);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
        }
        d.end();
        return out.toByteArray();
    }

    /** The filtered scanlines (filter byte + row) of 8-bit gray pixels, row y using filters[y % filters.length]. */
    static byte[] filtered(int w, int h, byte[] px, int... filters) {
        byte[] out = new byte[(w + 1) * h];
        for (int y = 0; y < h; y++) {
            int f = filters[y % filters.length];
            out[y * (w + 1)] = (byte) f;
            for (int x = 0; x < w; x++) {
                int cur = px[y * w + x] & 0xff;
                int a = x > 0 ? px[y * w + x - 1] & 0xff : 0;
                int b = y > 0 ? px[(y - 1) * w + x] & 0xff : 0;
                int c = x > 0 && y > 0 ? px[(y - 1) * w + x - 1] & 0xff : 0;
                int predictor = switch (f) {
                    case 0 -> 0;
                    case 1 -> a;
                    case 2 -> b;
                    case 3 -> (a + b) / 2;
                    case 4 -> {
                        int p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
                        yield pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                    }
                    default -> throw new IllegalArgumentException("filter " + f);
                };
                out[y * (w + 1) + 1 + x] = (byte) (cur - predictor);
            }
        }
        return out;
    }

    /** IHDR, the before chunks, the zlib stream split into IDATs of at most idatSize bytes, IEND. */
    static byte[] grayPng(int w, int h, byte[] zlib, int idatSize, byte[]... before) {
        List<byte[]> parts = new ArrayList<>();
        parts.add(ihdr(w, h, 8, 0, 0));
        parts.addAll(Arrays.asList(before));
        for (int i = 0; i < zlib.length; i += idatSize) {
            parts.add(chunk("IDAT", Arrays.copyOfRange(zlib, i, Math.min(zlib.length, i + idatSize))));
        }
        parts.add(chunk("IEND", new byte[0]));
        return concat(parts.toArray(byte[][]::new));
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Smooth enough that Sub, Up, Average and Paeth residues differ from the raw values and from one another. */
    static byte[] gradientWithNoise(int w, int h, long seed) {
        Random rnd = new Random(seed);
        byte[] b = new byte[w * h];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) ((i % w) * 5 + (i / w) * 3 + rnd.nextInt(9));
        }
        return b;
    }

    private static void assertDecodesExactly(int w, int h, byte[] px, byte[] png) {
        DecodedImage fast = GrayPng.decode(png, 1, ANY);
        assertNotNull(fast, "fast path declined");
        assertEquals(w, fast.width());
        assertEquals(h, fast.height());
        assertEquals(1, fast.channels());
        assertEquals("png", fast.format());
        assertArrayEquals(px, fast.gray());
        assertSameImage(imageIO(png), fast); // the hand-made file is one ImageIO reads the same way
        assertSameImage(fast, ImageCodec.decodePng(png));
    }

    @Test
    void eachFilterTypeDecodesExactly() {
        for (int filter = 0; filter <= 4; filter++) {
            for (int w : new int[] {1, 3, 17, 64}) {
                for (int h : new int[] {1, 2, 9}) {
                    for (byte[] px : List.of(random(w * h, 31L * w + h), gradientWithNoise(w, h, w ^ h))) {
                        byte[] png = grayPng(w, h, deflate(filtered(w, h, px, filter)), 1 << 20);
                        assertDecodesExactly(w, h, px, png);
                    }
                }
            }
        }
    }

    @Test
    void filtersMixedRowByRowDecodeExactly() {
        int w = 17, h = 23;
        byte[] px = gradientWithNoise(w, h, 5);
        assertDecodesExactly(w, h, px, grayPng(w, h, deflate(filtered(w, h, px, 4, 3, 2, 1, 0, 2, 4, 1, 3)), 1 << 20));
    }

    /** Consecutive Paeth rows are undone two at a time, except where the second lies in the next inflated batch. */
    @Test
    void paethRowsInPairsAndAloneDecodeExactly() {
        // width 2: 21845 rows per 64 KiB batch (odd), so one pair straddles the batch boundary
        for (int[] size : new int[][] {{2, 50_000}, {1, 7}, {17, 9}, {64, 2}}) {
            int w = size[0], h = size[1];
            byte[] px = gradientWithNoise(w, h, 3L * w + h);
            assertDecodesExactly(w, h, px, grayPng(w, h, deflate(filtered(w, h, px, 4)), 1 << 15));
            assertDecodesExactly(w, h, px, grayPng(w, h, deflate(filtered(w, h, px, 4, 4, 4, 1, 4, 0, 4, 4)), 1 << 15));
        }
    }

    @Test
    void tallAndWideImagesDecodeExactly() {
        // Rows are inflated up to 64 KiB at a time: many batches and a partial last one, or one row per batch.
        for (int[] size : new int[][] {{3, 40_000}, {1, 70_001}, {70_000, 3}}) {
            int w = size[0], h = size[1];
            byte[] px = gradientWithNoise(w, h, w);
            assertDecodesExactly(w, h, px, grayPng(w, h, deflate(filtered(w, h, px, 4, 0, 3, 1, 2, 4)), 1 << 15));
        }
    }

    @Test
    void imageSplitOverManyIdatChunksDecodesExactly() {
        int w = 33, h = 21;
        byte[] px = random(w * h, 9);
        byte[] zlib = deflate(filtered(w, h, px, 0, 1, 2, 3, 4));
        assertDecodesExactly(w, h, px, grayPng(w, h, zlib, 7));
        assertDecodesExactly(w, h, px, grayPng(w, h, zlib, 1));
        // An empty IDAT in the middle of the run is still part of it.
        byte[] withEmpty = concat(ihdr(w, h, 8, 0, 0), chunk("IDAT", Arrays.copyOf(zlib, 10)),
                chunk("IDAT", new byte[0]), chunk("IDAT", Arrays.copyOfRange(zlib, 10, zlib.length)),
                chunk("IEND", new byte[0]));
        assertDecodesExactly(w, h, px, withEmpty);
    }

    @Test
    void ancillaryChunksAndWhatFollowsTheImageDataChangeNothing() {
        int w = 20, h = 12;
        byte[] px = gradientWithNoise(w, h, 2);
        byte[] zlib = deflate(filtered(w, h, px, 4));
        byte[] gama = chunk("gAMA", ByteBuffer.allocate(4).putInt(45455).array());
        byte[] text = chunk("tEXt", "Comment\0hello".getBytes(StandardCharsets.ISO_8859_1));
        byte[] phys = chunk("pHYs", new byte[9]);
        byte[] png = grayPng(w, h, zlib, 1 << 20, gama, text, phys);
        assertDecodesExactly(w, h, px, png);
        // ImageIO stops at the end of the IDAT run: a missing IEND, trailing bytes or an IDAT after another chunk
        // (ignored by both) do not matter.
        byte[] noIend = concat(ihdr(w, h, 8, 0, 0), chunk("IDAT", zlib));
        assertDecodesExactly(w, h, px, noIend);
        byte[] trailing = Arrays.copyOf(png, png.length + 100);
        Arrays.fill(trailing, png.length, trailing.length, (byte) 0x5a);
        assertDecodesExactly(w, h, px, trailing);
        byte[] lateIdat = concat(ihdr(w, h, 8, 0, 0), chunk("IDAT", zlib), text, chunk("IDAT", deflate(new byte[50])),
                chunk("IEND", new byte[0]));
        assertDecodesExactly(w, h, px, lateIdat);
        // ImageIO does not check CRCs either.
        byte[] badCrc = png.clone();
        badCrc[png.length - 13] ^= 0x55; // last byte of the IDAT CRC
        assertDecodesExactly(w, h, px, badCrc);
    }

    @Test
    void transparentGrayIsLeftToImageIO() {
        int w = 20, h = 12;
        byte[] px = gradientWithNoise(w, h, 3);
        byte[] png = grayPng(w, h, deflate(filtered(w, h, px, 1)), 1 << 20, chunk("tRNS", new byte[] {0, 7}));
        assertDeclined(png);
        DecodedImage viaImageIO = imageIO(png);
        assertEquals(2, viaImageIO.channels(), "ImageIO reads gray + tRNS as gray + alpha");
        assertArrayEquals(px, viaImageIO.gray());
    }

    // --- Fallbacks: every one gives what ImageIO gives ---

    private static byte[] noisePng() {
        int w = 40, h = 30;
        byte[] px = random(w * h, 4);
        return grayPng(w, h, deflate(filtered(w, h, px, 0, 1, 2, 3, 4)), 1 << 20);
    }

    @Test
    void truncatedFilesAreLeftToImageIO() {
        byte[] png = noisePng(); // one IDAT: 33 bytes of signature and IHDR, 8 of IDAT header, ..., 12 of IEND
        for (int length : new int[] {20, 33, 40, 41, 60, png.length / 2, png.length - 12 - 4 - 5}) {
            String result = assertDeclined(Arrays.copyOf(png, length));
            assertTrue(result.startsWith("rejected CORRUPT_IMAGE"), length + " bytes: " + result);
        }
        // Cutting inside the last IDAT's CRC: the fast path wants the whole chunk, ImageIO does not need it.
        assertDeclined(Arrays.copyOf(png, png.length - 12 - 2));
    }

    @Test
    void corruptImageDataIsLeftToImageIO() {
        byte[] png = noisePng();
        byte[] badDeflate = png.clone();
        badDeflate[33 + 8 + 2] = (byte) 0xff; // first byte of the deflate stream: reserved block type 3
        assertTrue(assertDeclined(badDeflate).startsWith("rejected CORRUPT_IMAGE"));

        byte[] badHeader = png.clone();
        badHeader[33 + 8] = 0x79; // zlib header whose check bits fail
        assertTrue(assertDeclined(badHeader).startsWith("rejected CORRUPT_IMAGE"));

        int idatEnd = png.length - 12 - 4; // IEND, then the IDAT's CRC
        byte[] badChecksum = png.clone();
        badChecksum[idatEnd - 1] ^= 1; // the zlib stream's Adler-32
        assertDeclined(badChecksum);

        // The image data goes on in a chunk that is not an IDAT: ImageIO's run of IDATs ends before it.
        int dataLength = png.length - 33 - 8 - 4 - 12;
        byte[] zlib = Arrays.copyOfRange(png, 33 + 8, 33 + 8 + dataLength);
        byte[] split = concat(ihdr(40, 30, 8, 0, 0), chunk("IDAT", Arrays.copyOf(zlib, 100)),
                chunk("prVt", Arrays.copyOfRange(zlib, 100, zlib.length)), chunk("IEND", new byte[0]));
        assertTrue(assertDeclined(split).startsWith("rejected CORRUPT_IMAGE"));

        int w = 9, h = 4;
        byte[] rows = filtered(w, h, random(w * h, 1), 2);
        rows[2 * (w + 1)] = 5; // no such filter type
        assertTrue(assertDeclined(grayPng(w, h, deflate(rows), 1 << 20)).startsWith("rejected CORRUPT_IMAGE"));
    }

    @Test
    void imageDataOfTheWrongSizeIsLeftToImageIO() {
        int w = 9, h = 4;
        byte[] rows = filtered(w, h, random(w * h, 8), 1);
        String tooShort = assertDeclined(grayPng(w, h, deflate(Arrays.copyOf(rows, rows.length - 1)), 1 << 20));
        assertTrue(tooShort.startsWith("rejected CORRUPT_IMAGE"), tooShort);
        // A longer stream: ImageIO ignores what follows the last row, the fast path leaves the file to it.
        String tooLong = assertDeclined(grayPng(w, h, deflate(Arrays.copyOf(rows, rows.length + w + 1)), 1 << 20));
        assertTrue(tooLong.startsWith(w + "x" + h + " 1 png"), tooLong);
    }

    @Test
    void headerOutcomesAreImageIOs() {
        byte[] png = noisePng(); // 40x30
        assertEquals("rejected TOO_SMALL: 40x30 is below 31 px", assertDeclined(png, 31, ANY));
        assertEquals("rejected TOO_LARGE: declared 40x30 exceeds 1199 pixels", assertDeclined(png, 1, 1199));
        assertNotNull(GrayPng.decode(png, 30, 1200), "limits are inclusive");

        byte[] zeroWidth = png.clone();
        zeroWidth[16] = zeroWidth[17] = zeroWidth[18] = zeroWidth[19] = 0;
        assertTrue(assertDeclined(zeroWidth).startsWith("rejected CORRUPT_IMAGE"));
        byte[] badSignature = png.clone();
        badSignature[6] = 0;
        assertTrue(assertDeclined(badSignature).startsWith("rejected NOT_AN_IMAGE"));
        byte[] badFilterMethod = png.clone();
        badFilterMethod[27] = 1;
        assertTrue(assertDeclined(badFilterMethod).startsWith("rejected CORRUPT_IMAGE"));
        assertTrue(assertDeclined(ImageCodecTest.bombPng(), 32, 40_000_000).startsWith("rejected TOO_LARGE"));
    }

    @Test
    void interlacedIsLeftToImageIOEvenWhereItsDataLooksPlain() {
        // 1x2 Adam7 stores row 0 in pass 1 and row 1 in pass 7, each a 2-byte scanline as in a plain file; but
        // row 1 is its pass's first row, so Up adds zeros instead of row 0.
        byte[] png = concat(ihdr(1, 2, 8, 0, 1), chunk("IDAT", deflate(new byte[] {0, 100, 2, 50})),
                chunk("IEND", new byte[0]));
        assertDeclined(png);
        assertArrayEquals(new byte[] {100, 50}, imageIO(png).gray());
    }

    private static byte[] write(BufferedImage image, boolean interlaced) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setProgressiveMode(interlaced ? ImageWriteParam.MODE_DEFAULT : ImageWriteParam.MODE_DISABLED);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    @Test
    void otherPngKindsAreLeftToImageIO() throws IOException {
        int w = 21, h = 13;
        BufferedImage gray = ImageCodecTest.gray(w, h, (x, y) -> (x * 11 + y * 7) & 0xff);
        byte[] plain = write(gray, false);
        assertNotNull(GrayPng.decode(plain, 1, ANY), "the same image, not interlaced, takes the fast path");

        byte[] interlaced = write(gray, true);
        assertEquals(1, interlaced[28], "Adam7");
        assertTrue(assertDeclined(interlaced).startsWith(w + "x" + h + " 1 png"));
        assertArrayEquals(imageIO(plain).gray(), imageIO(interlaced).gray());

        BufferedImage gray16 = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
        byte[] png16 = write(gray16, false);
        assertEquals(16, png16[24]);
        assertDeclined(png16);

        BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(3, 4, 0x336699);
        byte[] rgbPng = write(rgb, false);
        assertEquals(2, rgbPng[25]);
        assertTrue(assertDeclined(rgbPng).startsWith(w + "x" + h + " 3 png"));

        BufferedImage palette = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED);
        byte[] palettePng = write(palette, false);
        assertEquals(3, palettePng[25]);
        assertDeclined(palettePng);

        BufferedImage binary = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_BINARY);
        byte[] binaryPng = write(binary, false);
        assertEquals(1, binaryPng[24]);
        assertEquals(0, binaryPng[25]);
        assertDeclined(binaryPng);

        assertDeclined(ImageCodecTest.write(gray, "bmp"));
    }
}
