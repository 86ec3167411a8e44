package org.busispark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's main job on the committed BUSI sample, shortened to two epochs, through the real CLI and
 * local Spark: every stage's outputs exist, the metrics agree with the confusion matrix, and the model and its
 * evaluation are published to a model store that scoring then loads by name.
 */
class EndToEndTest {
    private static final String SAMPLE = "data/sample/busi";
    @TempDir
    static Path out;
    private static BusiCliTest.Result run;

    @BeforeAll
    static void runPipeline() {
        run = BusiCliTest.run("run", "--conf", "conf/local.conf", "-Dbusi.train.epochs=2",
                "-Dbusi.store.uri=" + out.resolve("store"), "--input", SAMPLE, "--output", out.toString());
    }

    @AfterAll
    static void stopSpark() {
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
    }

    private static JsonNode json(Path p) throws IOException {
        return Json.tree(Files.readString(p));
    }

    private static SparkSession spark() {
        return SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    }

    @Test
    void runSucceedsAndReportsEveryStage() {
        assertEquals(0, run.code(), run.err());
        for (String stage : new String[] {"\\[ingest \\+[0-9.]+s] ", "\\[train \\+[0-9.]+s] epoch 1/2 ",
                "\\[train \\+[0-9.]+s] epoch 2/2 ", "\\[evaluate \\+[0-9.]+s] ", "\\[publish \\+[0-9.]+s] ",
                "\\[run \\+[0-9.]+s] "}) {
            assertTrue(java.util.regex.Pattern.compile(stage).matcher(run.out()).find(), "progress shows " + stage);
        }
    }

    @Test
    void ingestReportReconciles() throws IOException {
        JsonNode r = json(out.resolve("dataset/ingest-report.json"));
        assertEquals(r.get("seen").asLong(),
                r.get("accepted").asLong() + r.get("quarantined").asLong() + r.get("skipped").asLong());
        assertEquals(60, r.get("accepted").asLong());
        for (String c : new String[] {"benign", "malignant", "normal"}) {
            assertEquals(20, r.get("acceptedPerClass").get(c).asLong());
        }
        long splits = 0;
        for (JsonNode n : r.get("acceptedPerSplit")) {
            splits += n.asLong();
        }
        assertEquals(60, splits);
        List<Row> rows = spark().read().parquet(out.resolve("dataset/images").toString())
                .select("image_id", "label", "label_index", "split", "image", "mask").collectAsList();
        assertEquals(60, rows.size());
        assertTrue(rows.stream().allMatch(x -> !x.isNullAt(4) && !x.isNullAt(5)), "every sample image has its mask");
    }

    @Test
    void modelAndHistoryAreWritten() throws IOException {
        assertTrue(Files.size(out.resolve("model/model.zip")) > 100_000);
        JsonNode card = json(out.resolve("model/model-card.json"));
        assertEquals("resnet18", card.get("architecture").asText());
        assertEquals(64, card.get("inputSize").asInt());
        assertTrue(card.get("normalization").get("std").asDouble() > 0);
        assertTrue(card.get("trainingData").get("trainFingerprint").asText().matches("\\d+:[0-9a-f]+"));
        List<String> history = Files.readAllLines(out.resolve("history/epochs.jsonl"));
        assertEquals(2, history.size());
        JsonNode last = Json.tree(history.get(1));
        assertEquals(2, last.get("epoch").asInt());
        assertTrue(last.get("trainAccuracy").asDouble() >= 0 && last.get("trainAccuracy").asDouble() <= 1);
        assertTrue(last.get("learningRate").asDouble() > 0);
        // Each epoch is fitted in several averaging rounds (43 training images, rounds of 2 x 8 x 2), and
        // dl4j-spark counts every fit as an epoch: the schedule's count must still be the epoch's.
        var graph = org.busispark.model.TrainedModel.fromZip(Files.readAllBytes(out.resolve("model/model.zip")), false);
        assertEquals(card.get("bestEpoch").asInt(), graph.getConfiguration().getEpochCount());
    }

    @Test
    void metricsLieInRangeAndAgreeWithTheConfusionMatrix() throws IOException {
        JsonNode report = json(out.resolve("evaluation/metrics.json"));
        JsonNode m = report.get("metrics");
        JsonNode cm = m.get("confusionMatrix");
        long total = 0, diagonal = 0;
        double f1Sum = 0;
        for (int i = 0; i < 3; i++) {
            long row = 0, col = 0;
            for (int j = 0; j < 3; j++) {
                row += cm.get(i).get(j).asLong();
                col += cm.get(j).get(i).asLong();
            }
            total += row;
            diagonal += cm.get(i).get(i).asLong();
            JsonNode pc = m.get("perClass").get(i);
            assertEquals(row, pc.get("support").asLong());
            assertEquals(row == 0 ? 0 : (double) cm.get(i).get(i).asLong() / row, pc.get("recall").asDouble(), 1e-12);
            assertEquals(col == 0 ? 0 : (double) cm.get(i).get(i).asLong() / col, pc.get("precision").asDouble(), 1e-12);
            f1Sum += pc.get("f1").asDouble();
        }
        JsonNode ingest = json(out.resolve("dataset/ingest-report.json"));
        assertEquals(ingest.get("acceptedPerSplit").get("test").asLong(), total);
        assertEquals(total, m.get("count").asLong());
        assertEquals((double) diagonal / total, m.get("accuracy").asDouble(), 1e-12);
        assertEquals(f1Sum / 3, m.get("macroF1").asDouble(), 1e-12);
        for (String k : new String[] {"accuracy", "macroF1"}) {
            assertTrue(m.get(k).asDouble() >= 0 && m.get(k).asDouble() <= 1, k);
        }
        assertTrue(m.get("averageLoss").asDouble() > 0 && Double.isFinite(m.get("averageLoss").asDouble()));
        assertEquals(total, spark().read().parquet(out.resolve("evaluation/predictions").toString()).count());
    }

    @Test
    void evaluatesAClassFolderAndScoresAnUnlabelledFolder() throws IOException {
        Path eval = out.resolve("eval-folder");
        BusiCliTest.Result r = BusiCliTest.run("evaluate", "--conf", "conf/local.conf", "--model", out.toString(),
                "--data", SAMPLE, "--output", eval.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(60, json(eval.resolve("metrics.json")).get("metrics").get("count").asLong());
        assertEquals("none", json(eval.resolve("metrics.json")).get("tta").asText());
        Path flipped = out.resolve("eval-folder-tta");
        r = BusiCliTest.run("evaluate", "--conf", "conf/local.conf", "--model", out.toString(), "--data", SAMPLE,
                "--output", flipped.toString(), "-Dbusi.score.tta=hflip");
        assertEquals(0, r.code(), r.err());
        assertEquals("hflip", json(flipped.resolve("metrics.json")).get("tta").asText());
        assertNotEquals(json(eval.resolve("metrics.json")).get("metrics").get("averageLoss").asDouble(),
                json(flipped.resolve("metrics.json")).get("metrics").get("averageLoss").asDouble(),
                "flip averaging changes the probabilities");
        for (String f : new String[] {"report.html", "plots/confusion-matrix.png", "plots/roc-curves.png",
                "plots/reliability.png", "plots/training-loss.png"}) {
            assertTrue(Files.size(eval.resolve(f)) > 1000, f);
        }

        // A manifest beside the images: one line per malignant image, in any folder layout.
        Path manifest = Path.of(SAMPLE, "..", "eval-manifest.csv").toAbsolutePath().normalize();
        StringBuilder csv = new StringBuilder("path,label\n");
        try (var files = Files.list(Path.of(SAMPLE, "malignant"))) {
            files.filter(p -> !p.getFileName().toString().contains("_mask"))
                    .forEach(p -> csv.append("busi/malignant/").append(p.getFileName()).append(",malignant\n"));
        }
        Files.writeString(manifest, csv.toString());
        try {
            Path viaManifest = out.resolve("eval-manifest");
            r = BusiCliTest.run("evaluate", "--conf", "conf/local.conf", "--model", out.toString(),
                    "--data", manifest.toString(), "--output", viaManifest.toString());
            assertEquals(0, r.code(), r.err());
            JsonNode m = json(viaManifest.resolve("metrics.json")).get("metrics");
            assertEquals(20, m.get("count").asLong());
            assertEquals(20, m.get("perClass").get(1).get("support").asLong());
        } finally {
            Files.delete(manifest);
        }

        Path score = out.resolve("score");
        r = BusiCliTest.run("score", "--conf", "conf/local.conf", "--model", out.resolve("model").toString(),
                "--input", SAMPLE + "/malignant", "--output", score.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = json(score.resolve("score-report.json"));
        assertEquals(report.get("seen").asLong(),
                report.get("scored").asLong() + report.get("errors").asLong() + report.get("skipped").asLong());
        assertEquals(20, report.get("scored").asLong());
        List<Row> rows = spark().read().parquet(score.resolve("predictions").toString())
                .select("prob_benign", "prob_malignant", "prob_normal", "predicted_label").collectAsList();
        assertEquals(20, rows.size());
        for (Row row : rows) {
            assertEquals(1.0, row.getFloat(0) + row.getFloat(1) + row.getFloat(2), 1e-4);
        }
    }

    /**
     * `run` publishes model and evaluation, `score` loads the store's latest, `train` publishes the model alone and,
     * having no test evaluation to beat the champion with, leaves latest where it is.
     */
    @Test
    void runPublishesToTheStoreThatScoreAndTrainUse() throws IOException {
        assertEquals(0, run.code(), run.err());
        Path model = out.resolve("store/models/busi-resnet");
        String published = Files.readString(model.resolve("latest")).strip();
        assertTrue(run.out().contains("as version " + published), run.out());
        Path version = model.resolve(published);
        for (String f : new String[] {"_COMMITTED", "model.zip", "model-card.json", "metrics.json", "report.html",
                "plots/confusion-matrix.png", "predictions", "metrics"}) {
            assertTrue(Files.exists(version.resolve(f)), f + " in " + version);
        }
        assertArrayEquals(Files.readAllBytes(out.resolve("model/model.zip")), Files.readAllBytes(version.resolve("model.zip")));

        Path score = out.resolve("score-latest");
        BusiCliTest.Result r = BusiCliTest.run("score", "--conf", "conf/local.conf", "--model", model.toString(),
                "--input", SAMPLE + "/normal", "--output", score.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = json(score.resolve("score-report.json"));
        assertEquals(Storage.normalize(version.toString()), report.get("model").asText());
        assertEquals(20, report.get("scored").asLong());

        r = BusiCliTest.run("train", "--conf", "conf/local.conf", "-Dbusi.train.epochs=1",
                "-Dbusi.store.uri=" + out.resolve("store"), "--data", out.resolve("dataset").toString(),
                "--output", out.resolve("retrain").toString());
        assertEquals(0, r.code(), r.err());
        java.util.regex.Matcher notPromoted = java.util.regex.Pattern.compile("not promoted (v\\S+): latest stays on "
                + published).matcher(r.out());
        assertTrue(notPromoted.find(), "without a test evaluation a retrained model does not replace the champion: " + r.out());
        String retrained = notPromoted.group(1);
        assertNotEquals(published, retrained);
        assertEquals(published, Files.readString(model.resolve("latest")).strip());
        assertTrue(Files.exists(model.resolve(retrained + "/model.zip")));
        assertTrue(Files.exists(model.resolve(retrained + "/_COMMITTED")), "published all the same");
        assertFalse(Files.exists(model.resolve(retrained + "/metrics.json")), "train publishes the model alone");
    }
}
