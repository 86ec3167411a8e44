package org.busispark.score;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.busispark.cli.BusiCliTest;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.model.ModelRegistry;
import org.busispark.model.TinyModel;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Incremental scoring per model version, error retries, Grad-CAM overlays and the CLI options, on local Spark. */
@ExtendWith(StopsSpark.class)
class ScoreJobTest {
    private static final Path SAMPLE = Path.of("data/sample/busi");
    @TempDir
    Path tmp;

    private ScoreJob.Report score(String model, Path input, Path out, List<String> explain) {
        BusiConfig config = ConfigLoader.load(null, Map.of("busi.score.gradcam-top", "2"));
        return ScoreJob.run(StopsSpark.session(), config, model, input.toString(), out.toString(), explain);
    }

    private static void copy(String sample, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(SAMPLE.resolve(sample), to);
    }

    private static void assertCounts(ScoreJob.Report r, long seen, long scored, long errors, long skipped, long already) {
        assertEquals(List.of(seen, scored, errors, skipped, already),
                List.of(r.seen(), r.scored(), r.errors(), r.skipped(), r.alreadyScored()), r.toString());
        assertEquals(r.seen(), r.scored() + r.errors() + r.skipped() + r.alreadyScored(), "counts reconcile");
    }

    private static List<String> listNames(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    @Test
    void scoresOnlyWhatTheModelVersionHasNotScoredAndRetriesErrors() throws Exception {
        Storage storage = new Storage(new org.apache.hadoop.conf.Configuration());
        String model = TinyModel.save(storage, tmp.resolve("model").toString(), 1);
        Path archive = tmp.resolve("archive");
        copy("malignant/malignant (10).png", archive.resolve("a/malignant (10).png"));
        copy("malignant/malignant (10)_mask.png", archive.resolve("a/malignant (10)_mask.png"));
        copy("malignant/malignant (108).png", archive.resolve("a/malignant (108).png"));
        copy("benign/benign (115).png", archive.resolve("b/benign (115).png"));
        copy("normal/normal (1).png", archive.resolve("b/normal (1).png"));
        Path out = tmp.resolve("scores");

        ScoreJob.Report first = score(model, archive, out, List.of());
        assertCounts(first, 5, 4, 0, 1, 0);
        byte[] zip = Files.readAllBytes(tmp.resolve("model/model.zip"));
        String version = "sha256-" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(zip), 0, 6);
        assertEquals(version, first.modelVersion(), "a plain folder's version comes from its model.zip");
        assertEquals("busi-resnet18", first.modelName(), "the card's name");
        Path partition = out.resolve("predictions/model_version=" + version);
        assertEquals(List.of("score_run=" + first.run()), listNames(partition));
        assertEquals(2, first.explained());
        assertEquals(2, listNames(out.resolve("gradcam/model_version=" + version)).size());

        SparkSession spark = StopsSpark.session();
        Dataset<Row> table = spark.read().parquet(out.resolve("predictions").toString());
        assertEquals(List.of("source_path", "image_id", "site", "patient_id", "scanner", "predicted_label", "prob_benign", "prob_malignant", "prob_normal",
                "model_name", "scored_at", "error", "model_version", "score_run"), List.of(table.columns()));
        for (Row row : table.collectAsList()) {
            assertEquals(1.0, row.<Float>getAs("prob_benign") + row.<Float>getAs("prob_malignant")
                    + row.<Float>getAs("prob_normal"), 1e-4);
            assertEquals(version, row.getAs("model_version"));
            assertNull(row.getAs("error"));
        }

        // The same archive again: nothing new for this version, and no new run folder.
        ScoreJob.Report second = score(model, archive, out, List.of("malignant*"));
        assertCounts(second, 5, 0, 0, 1, 4);
        assertNull(second.run());
        assertEquals(1, listNames(partition).size());
        assertEquals(2, second.explained(), "--explain works on images scored before");
        assertTrue(listNames(out.resolve("gradcam/model_version=" + version)).stream()
                .anyMatch(n -> n.matches("malignant_108_-[0-9a-f]{8}-(benign|malignant|normal)-[01]\\.\\d{3}\\.png")));

        // A new image, a renamed copy of a scored one (same pixels: not scored again) and a broken file.
        copy("benign/benign (139).png", archive.resolve("b/benign (139).png"));
        copy("malignant/malignant (10).png", archive.resolve("c/renamed.png"));
        Files.writeString(archive.resolve("c/broken.png"), "not an image");
        ScoreJob.Report third = score(model, archive, out, List.of());
        assertCounts(third, 8, 1, 1, 1, 5);

        // Error rows are retried: once the file is fixed, the next run scores it.
        Files.delete(archive.resolve("c/broken.png"));
        copy("normal/normal (101).png", archive.resolve("c/broken.png"));
        ScoreJob.Report fourth = score(model, archive, out, List.of());
        assertCounts(fourth, 8, 1, 0, 1, 6);
        assertEquals(3, listNames(partition).size(), "one run folder per run that scored something");
        Dataset<Row> all = spark.read().parquet(out.resolve("predictions").toString());
        assertEquals(7, all.count(), "4 + 1 + 1 error row + 1");
        assertEquals(1, all.where("error IS NOT NULL AND source_path LIKE '%broken.png'").count());
        assertEquals(6, all.where("error IS NULL").select("image_id").distinct().count());

        // A new model version (a store's) scores everything again, into its own partition.
        String published = ModelRegistry.commit(storage, tmp.resolve("store").toString(), "tiny", model, null);
        ScoreJob.Report other = score(Storage.child(ModelRegistry.modelUri(tmp.resolve("store").toString(), "tiny"),
                published), archive, out, List.of());
        assertCounts(other, 8, 7, 0, 1, 0);
        assertEquals("tiny", other.modelName());
        assertEquals(published, other.modelVersion());
        all = spark.read().parquet(out.resolve("predictions").toString());
        assertEquals(7, all.where("model_version = '" + published + "' AND model_name = 'tiny'").count());
        assertEquals(7, all.where("model_version = '" + version + "'").count(), "the first version's rows stay");
        assertEquals(2, listNames(out.resolve("gradcam/model_version=" + published)).size());

        var report = Json.tree(Files.readString(out.resolve("score-report.json")));
        assertEquals(7, report.get("scored").asLong());
        assertEquals(published, report.get("modelVersion").asText());
    }

    @Test
    void aRunKeepsOnlyTheFilesOfTheTaskAttemptsThatSucceeded() {
        SparkSession spark = StopsSpark.session();
        Storage storage = new Storage(spark.sparkContext().hadoopConfiguration());
        List<String> classes = List.of("benign", "malignant", "normal");
        String runDir = tmp.resolve("predictions/model_version=v1/score_run=r1").toUri().toString();
        String staging = storage.stagingFor(runDir);
        java.time.Instant at = java.time.Instant.parse("2026-11-26T04:00:00.123456Z");
        // Attempt 0 of partition 0 died after writing a row; attempt 1 redid it; partition 1 holds an error row.
        String[] files = new String[3];
        String[][] rows = {{"a.png", "b.png"}, {"a.png", "b.png", "c.png"}, {"broken.png"}};
        String[] names = {"part-00000-0.parquet", "part-00000-1.parquet", "part-00001-0.parquet"};
        for (int f = 0; f < 3; f++) {
            try (PredictionWriter w = new PredictionWriter(spark.sparkContext().hadoopConfiguration(),
                    new org.apache.hadoop.fs.Path(staging, names[f]), classes, "m", at)) {
                for (String r : rows[f]) {
                    w.write(r.startsWith("broken")
                            ? new org.busispark.model.Prediction(r, null, null, null, "corrupt-image: no", org.busispark.model.Origin.UNKNOWN)
                            : new org.busispark.model.Prediction(r, "id-" + r, null, new float[] {0.2f, 0.7f, 0.1f}, null, org.busispark.model.Origin.UNKNOWN));
                }
                files[f] = w.file();
            }
        }
        storage.commitFolder(staging, runDir, List.of(files[1], files[2]));

        assertEquals(List.of(names[1], names[2]), List.copyOf(storage.listFiles(runDir).keySet()));
        Dataset<Row> table = spark.read().parquet(tmp.resolve("predictions").toString());
        assertEquals(4, table.count(), "the dead attempt's rows are gone");
        // The rows a task writes read back with the columns and types of the table's schema.
        var expected = PredictionTable.schema(classes, false);
        for (var field : table.schema().fields()) {
            if (!field.name().equals("score_run")) {
                assertEquals(expected.apply(field.name()).dataType(), field.dataType(), field.name());
            }
        }
        Row ok = table.where("source_path = 'c.png'").first();
        assertEquals("malignant", ok.getAs("predicted_label"));
        assertEquals(0.7f, (float) ok.getAs("prob_malignant"));
        assertEquals(java.sql.Timestamp.from(at), ok.getAs("scored_at"));
        Row bad = table.where("source_path = 'broken.png'").first();
        assertNull(bad.getAs("predicted_label"));
        assertNull(bad.getAs("prob_benign"));
        assertEquals("corrupt-image: no", bad.getAs("error"));
    }

    @Test
    void theCommandLineSetsFlipAveragingAndRejectsUnknownValues() throws Exception {
        Storage storage = new Storage(new org.apache.hadoop.conf.Configuration());
        String model = TinyModel.save(storage, tmp.resolve("model").toString(), 1);
        Path out = tmp.resolve("scores");
        BusiCliTest.Result r = BusiCliTest.run("score", "--conf", "conf/local.conf", "--model", model, "--tta", "hflip",
                "--gradcam-top", "0", "--explain", "benign (115).png", "--input", SAMPLE + "/benign", "--output",
                out.toString());
        assertEquals(0, r.code(), r.err());
        var report = Json.tree(Files.readString(out.resolve("score-report.json")));
        assertEquals("hflip", report.get("tta").asText());
        assertEquals(20, report.get("scored").asLong());
        assertEquals(1, report.get("explained").asLong(), "only the image asked for");
        assertNotNull(report.get("run").textValue());

        r = BusiCliTest.run("score", "--model", model, "--tta", "vflip", "--input", SAMPLE.toString(),
                "--output", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("busi.score.tta") && r.err().contains("vflip"), r.err());
    }

    @Test
    void aSitesMetadataCsvIsScoredWithItsMappingAndPredictionsKeepSitePatientAndScanner() throws Exception {
        Storage storage = new Storage(new org.apache.hadoop.conf.Configuration());
        String model = TinyModel.save(storage, tmp.resolve("model").toString(), 1);
        BusiConfig config = ConfigLoader.load(new java.io.File("conf/multi-site.conf"),
                Map.of("busi.score.gradcam-top", "0"));
        Path csv = Path.of("data/sample/bus-bra/bus_data.csv");
        Path out = tmp.resolve("scores");
        ScoreJob.Report r = ScoreJob.run(StopsSpark.session(), config, model, "BUS-BRA=" + csv, out.toString(), List.of());
        long rows = Files.readAllLines(csv).size() - 1;
        assertEquals(rows, r.scored(), r.toString());
        Row bra = StopsSpark.session().read().parquet(out.resolve("predictions").toString())
                .where("source_path LIKE '%/Images/bus_0001-l.png'").first();
        assertEquals("BUS-BRA", bra.getAs("site"));
        assertEquals("1", bra.getAs("patient_id"));
        assertEquals("GE Logiq 7 @10-14MHz", bra.getAs("scanner"));

        Path folderOut = tmp.resolve("folder-scores");
        ScoreJob.run(StopsSpark.session(), config, model, SAMPLE.resolve("normal").toString(), folderOut.toString(),
                List.of());
        List<Row> sites = StopsSpark.session().read().parquet(folderOut.resolve("predictions").toString())
                .select("site", "patient_id").distinct().collectAsList();
        assertEquals(1, sites.size());
        assertEquals("normal", sites.get(0).getString(0), "a bare folder is the site of its name");
        assertNull(sites.get(0).get(1));
    }
}
