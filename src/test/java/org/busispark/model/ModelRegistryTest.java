package org.busispark.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.hadoop.conf.Configuration;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Publishing to and loading from a model store on local files; HDFS and S3 run the same through the storage tests. */
class ModelRegistryTest {
    private static final String NAME = "busi-resnet";
    private static final Storage STORAGE = new Storage(new Configuration());
    @TempDir
    static Path models;
    /** Two saved models, told apart by their cards' best epoch (1 and 2). */
    private static String first;
    private static String second;
    @TempDir
    Path dir;

    @BeforeAll
    static void saveModels() {
        first = TinyModel.save(STORAGE, models.resolve("first").toString(), 1);
        second = TinyModel.save(STORAGE, models.resolve("second").toString(), 2);
    }

    private String store() {
        return Storage.normalize(dir.resolve("store").toString());
    }

    private String model() {
        return ModelRegistry.modelUri(store(), NAME);
    }

    private String latest() {
        return STORAGE.readText(model() + "/" + ModelRegistry.LATEST).strip();
    }

    private static ModelStore.LoadedModel load(String uri) {
        return ModelStore.load(STORAGE, uri, TinyModel.CLASSES);
    }

    private static ModelLoadException refused(String uri, String... fragments) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> load(uri));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' not in: " + e.getMessage());
        }
        return e;
    }

    private static List<String> namesIn(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList();
        }
    }

    private Path local(String uri) {
        return Path.of(java.net.URI.create(uri));
    }

    @Test
    void versionsSortByTimeAndNameIt() {
        Instant t = Instant.parse("2026-11-25T19:10:00Z");
        String v = ModelRegistry.newVersion(t);
        assertTrue(v.matches("v20261125T191000Z-[0-9a-f]{6}"), v);
        assertTrue(v.compareTo(ModelRegistry.newVersion(t.plusSeconds(1))) < 0);
        assertTrue(ModelRegistry.newVersion(Instant.parse("2026-12-01T00:00:00Z")).compareTo(v) > 0);
    }

    @Test
    void latestPointsToTheSecondOfTwoPublishedVersions() throws IOException {
        String v1 = TinyModel.publish(STORAGE, store(), NAME, first, null);
        String v2 = TinyModel.publish(STORAGE, store(), NAME, second, null);

        assertNotEquals(v1, v2);
        assertEquals(v2, latest());
        assertEquals(List.of("_COMMITTED", "model-card.json", "model.zip"), namesIn(local(model() + "/" + v2)));
        JsonNode commit = Json.tree(STORAGE.readText(model() + "/" + v2 + "/_COMMITTED"));
        assertEquals(v2, commit.get("version").asText());
        assertEquals(Files.size(local(second + "/model.zip")), commit.get("files").get("model.zip").asLong());
        assertEquals(2, commit.get("files").size(), commit.toString());

        ModelStore.LoadedModel loaded = load(model());
        assertEquals(model() + "/" + v2, loaded.dir());
        assertEquals(2, loaded.model().card().bestEpoch());
        assertArrayEquals(Files.readAllBytes(local(second + "/model.zip")), loaded.zip(), "the zip as ModelStore wrote it");
        assertEquals(loaded.dir(), load(model() + "/latest").dir());
        assertEquals(loaded.dir(), load(model() + "/" + v2 + "/model.zip").dir());
        assertEquals(1, load(model() + "/" + v1).model().card().bestEpoch(), "an older version stays loadable");
    }

    @Test
    void publishCopiesTheEvaluationWithoutHiddenFiles() throws IOException {
        Path eval = dir.resolve("evaluation");
        Map<String, String> files = Map.of("metrics.json", "{}", "report.html", "<html>", "plots/roc-curves.png", "png",
                "predictions/part-0.parquet", "parquet", "predictions/_SUCCESS", "", "predictions/.part-0.parquet.crc", "crc");
        for (var f : files.entrySet()) {
            Files.createDirectories(eval.resolve(f.getKey()).getParent());
            Files.writeString(eval.resolve(f.getKey()), f.getValue());
        }
        String v = TinyModel.publish(STORAGE, store(), NAME, first, eval.toString());

        Path version = local(model() + "/" + v);
        assertEquals(List.of("_COMMITTED", "metrics.json", "model-card.json", "model.zip", "plots", "predictions",
                "report.html"), namesIn(version));
        assertEquals(List.of("part-0.parquet"), namesIn(version.resolve("predictions")));
        assertEquals("png", Files.readString(version.resolve("plots/roc-curves.png")));
        assertEquals(List.of("metrics.json", "model-card.json", "model.zip", "plots/roc-curves.png",
                        "predictions/part-0.parquet", "report.html"),
                STORAGE.listFiles(version.toUri().toString()).keySet().stream().toList());
        assertEquals(1, load(model()).model().card().bestEpoch());
    }

    /** The publisher dies after the model files and before the marker: the target refuses the evaluation's plots. */
    @Test
    void crashBeforeTheMarkerLeavesLatestOnTheLastCompleteVersion() throws IOException {
        String v1 = TinyModel.publish(STORAGE, store(), NAME, first, null);
        Path eval = dir.resolve("evaluation");
        Files.createDirectories(eval.resolve("plots"));
        Files.writeString(eval.resolve("metrics.json"), "{}");
        Files.writeString(eval.resolve("plots/roc-curves.png"), "png");
        String v2 = ModelRegistry.newVersion(Instant.now().plusSeconds(1));
        Path broken = local(model() + "/" + v2);
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("plots"), "a file where the plots folder must go");

        UncheckedIOException crash = assertThrows(UncheckedIOException.class,
                () -> ModelRegistry.commit(STORAGE, store(), NAME, second, eval.toString(), v2));
        assertTrue(crash.getMessage().contains(v2 + "/plots"), crash.getMessage());

        assertTrue(Files.exists(broken.resolve("model.zip")), "the model was written before the crash");
        assertFalse(Files.exists(broken.resolve("_COMMITTED")));
        assertEquals(v1, latest());
        assertEquals(model() + "/" + v1, load(model()).dir());
        refused(model() + "/" + v2, model() + "/" + v2, "_COMMITTED", "incomplete",
                model() + " loads the latest complete version");
        refused(model() + "/" + v2 + "/model.zip", model() + "/" + v2, "_COMMITTED");
    }

    @Test
    void aVersionWhoseMarkerIsGoneOrDoesNotMatchIsRefused() throws IOException {
        // Tampering goes through Storage, which keeps the local file system's .crc files in step.
        String v1 = TinyModel.publish(STORAGE, store(), NAME, first, null);
        String zipUri = model() + "/" + v1 + "/model.zip";
        byte[] zip = STORAGE.readBytes(zipUri);

        STORAGE.writeBytes(zipUri, Arrays.copyOf(zip, zip.length - 1));
        refused(model(), model() + "/" + v1, "does not match its _COMMITTED", "model.zip");

        STORAGE.writeBytes(zipUri, new byte[zip.length]);
        refused(model(), "not a readable DL4J ComputationGraph");

        Files.delete(local(model() + "/" + v1 + "/_COMMITTED"));
        refused(model(), model() + "/" + v1, "_COMMITTED", "incomplete");

        STORAGE.writeText(model() + "/latest", "../../elsewhere\n");
        refused(model(), "does not name a model version", "../../elsewhere");
    }

    @Test
    void loadingChecksTheCardAgainstTheGraphAndTheConfiguration() {
        String threeChannels = TinyModel.save(STORAGE, dir.resolve("rgb-card").toString(), 1, 3);
        TinyModel.publish(STORAGE, store(), NAME, threeChannels, null);
        refused(model(), "does not accept the card's input 3x32x32");

        TinyModel.publish(STORAGE, store(), NAME, first, null);
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> ModelStore.load(STORAGE, model(), List.of("benign", "malignant")));
        assertTrue(e.getMessage().contains("but the configuration expects [benign, malignant]"), e.getMessage());
    }

    @Test
    void aModelFolderWithoutLatestIsNoModel() throws IOException {
        Files.createDirectories(local(model()));
        refused(model(), "No model found at", "latest");
    }
}
