package org.busispark.train;

import org.apache.spark.sql.Row;
import org.busispark.cli.BusiCliTest;
import org.busispark.ingest.ImageSources;
import org.busispark.ingest.ImageTable;
import org.busispark.ingest.Splits;
import org.busispark.model.ModelCard;
import org.busispark.model.ModelStore;
import org.busispark.model.TrainedModel;
import org.busispark.storage.Json;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training on a two-site dataset: site A holds half the sample's benign and malignant images and no normal ones
 * (as BUS-BRA), site B the rest (twice as many images).
 */
@ExtendWith(StopsSpark.class)
class MultiSiteTrainingTest {
    @TempDir
    static Path tmp;
    static Path data;
    /** Training images per site, as the dataset holds them. */
    static Map<String, Long> trainPerSite;

    @BeforeAll
    static void ingestTwoSites() throws IOException {
        Path a = tmp.resolve("site-a");
        Path b = tmp.resolve("site-b");
        for (String cls : List.of("benign", "malignant", "normal")) {
            List<Path> images = images(Path.of("data/sample/busi", cls));
            for (int i = 0; i < images.size(); i++) {
                copyWithMasks(images.get(i), (cls.equals("normal") || i % 2 == 1 ? b : a).resolve(cls));
            }
        }
        data = tmp.resolve("dataset");
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/local.conf", "--input", "A=" + a,
                "--input", "B=" + b, "--output", data.toString());
        assertEquals(0, r.code(), r.err());
        trainPerSite = new TreeMap<>();
        for (Row row : ImageSources.ingested(StopsSpark.session(), data.toString(), Splits.TRAIN)
                .groupBy(ImageTable.SITE).count().collectAsList()) {
            trainPerSite.put(row.getString(0), row.getLong(1));
        }
        assertEquals(List.of("A", "B"), List.copyOf(trainPerSite.keySet()));
        assertTrue(trainPerSite.get("B") > trainPerSite.get("A"), trainPerSite.toString());
    }

    private record Trained(String out, ModelCard card, List<Double> losses, float[] params) {}

    private static Trained train(String name, String... settings) throws IOException {
        Path out = tmp.resolve(name);
        List<String> args = new ArrayList<>(List.of("train", "--conf", "conf/local.conf", "-Dbusi.train.epochs=1",
                "--data", data.toString(), "--output", out.toString()));
        args.addAll(List.of(settings));
        BusiCliTest.Result r = BusiCliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        Path model = out.resolve(ModelStore.MODEL_DIR);
        return new Trained(r.out(), Json.read(Files.readString(model.resolve(ModelStore.CARD_FILE)), ModelCard.class),
                Files.readAllLines(out.resolve(TrainJob.HISTORY_FILE)).stream()
                        .map(l -> Json.read(l, EpochRecord.class).trainLoss()).toList(),
                TrainedModel.fromZip(Files.readAllBytes(model.resolve("model.zip")), false).params().toFloatVector());
    }

    @Test
    void aHeldOutSiteTakesNoPartAndBalancingOneSiteChangesNothing() throws IOException {
        Trained plain = train("holdout-b", "-Dbusi.train.holdout-site=B");
        ModelCard.TrainingData d = plain.card().trainingData();
        long a = trainPerSite.get("A");
        assertEquals(Map.of("A", a), d.trainImagesPerSite());
        assertEquals(a, d.imagesPerSplit().get(Splits.TRAIN));
        assertTrue(d.trainFingerprint().startsWith(a + ":"), d.trainFingerprint());
        assertFalse(d.trainImagesPerClass().containsKey("normal"), d.trainImagesPerClass().toString());
        assertEquals(d.trainImagesPerClass(), d.trainImagesPerSiteAndClass().get("A"));
        assertEquals("B", plain.card().training().holdoutSite());
        assertTrue(plain.out().contains("no training images of [normal]"), plain.out());
        assertTrue(plain.out().contains("[normal] absent from training"), plain.out());
        assertTrue(plain.out().contains("training images per site {A=" + a + "}"), plain.out());

        Trained balanced = train("holdout-b-equal", "-Dbusi.train.holdout-site=B", "-Dbusi.train.site-balance=equal");
        assertEquals("equal", balanced.card().training().siteBalance());
        assertEquals(plain.losses(), balanced.losses(), "one site balanced trains as unbalanced");
        assertArrayEquals(plain.params(), balanced.params());
    }

    @Test
    void siteBalancingDrawsEverySiteAlikeAndIsRecorded() throws IOException {
        Trained balanced = train("equal", "-Dbusi.train.site-balance=equal");
        ModelCard card = balanced.card();
        assertEquals("equal", card.training().siteBalance());
        assertEquals(trainPerSite, card.trainingData().trainImagesPerSite());
        assertFalse(card.trainingData().trainImagesPerSiteAndClass().get("A").containsKey("normal"));
        Map<String, Long> b = card.trainingData().trainImagesPerSiteAndClass().get("B");
        assertTrue(b.get("normal") > 0, b.toString());
        assertEquals(trainPerSite.get("B"), b.values().stream().mapToLong(Long::longValue).sum());
        long total = trainPerSite.values().stream().mapToLong(Long::longValue).sum();
        String draws = total % 2 == 0 ? String.valueOf(total / 2) : total / 2 + "-" + (total / 2 + 1);
        assertTrue(balanced.out().contains("site-balanced: " + draws + " draws of each site per epoch"), balanced.out());
        double[] w = TrainJob.classWeights(card.training(), card.classes(),
                TrainJob.balancedClassCounts(card.trainingData().trainImagesPerSiteAndClass()));
        assertTrue(balanced.out().contains("class weights of the loss " + Stream.of(w[0], w[1], w[2])
                .map(x -> String.format("%.3f", x)).toList() + " for [benign, malignant, normal] (from the site-balanced draw)"),
                balanced.out());

        Trained plain = train("none");
        assertEquals("none", plain.card().training().siteBalance());
        assertNotEquals(plain.losses(), balanced.losses(), "balancing changes what an epoch trains on");
    }

    private static List<Path> images(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().contains("_mask")).sorted().toList();
        }
    }

    private static void copyWithMasks(Path image, Path to) throws IOException {
        Files.createDirectories(to);
        String stem = image.getFileName().toString().replaceFirst("\\.png$", "");
        try (Stream<Path> s = Files.list(image.getParent())) {
            for (Path p : s.filter(p -> p.getFileName().toString().equals(stem + ".png")
                    || p.getFileName().toString().startsWith(stem + "_mask")).toList()) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }
}
