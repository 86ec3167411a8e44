package org.busispark.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.busispark.cli.BusiCliTest;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.ingest.IngestJob;
import org.busispark.ingest.IngestSources;
import org.busispark.model.TinyModel;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Evaluation per site on a two-site dataset made from the BUSI sample: site A has all three classes, site B (as
 * BUS-BRA) no normal images. Covers per-site metrics with a missing class, the metrics table's site column,
 * leave-one-site-out selection and {@code busi evaluate --site} on a class-folder tree.
 */
@ExtendWith(StopsSpark.class)
class SiteEvaluationTest {
    private static final Path SAMPLE = Path.of("data/sample/busi");
    @TempDir
    static Path tmp;
    private static final BusiConfig CONFIG = ConfigLoader.defaults();
    private static String dataset;
    private static Path siteA;
    private static String model;
    private static String heldOutB;

    @BeforeAll
    static void twoSites() throws IOException {
        siteA = tmp.resolve("clinic-a");
        Path siteB = tmp.resolve("clinic-b");
        for (String label : List.of("benign", "malignant", "normal")) {
            List<Path> images = images(label);
            copy(images.subList(0, 4), siteA.resolve(label));
            if (!label.equals("normal")) {
                copy(images.subList(4, 8), siteB.resolve(label));
            }
        }
        dataset = tmp.resolve("dataset").toUri().toString();
        IngestJob.run(StopsSpark.session(), CONFIG, List.of(IngestSources.named(siteA.toString(), "A"),
                IngestSources.named(siteB.toString(), "B")), dataset);
        Storage storage = new Storage(new org.apache.hadoop.conf.Configuration());
        model = TinyModel.save(storage, tmp.resolve("model").toString(), 1);
        heldOutB = TinyModel.save(storage, tmp.resolve("model-without-b").toString(), 1, 1,
                ConfigLoader.load(null, Map.of("busi.train.holdout-site", "B")).train());
    }

    private static List<Path> images(String label) throws IOException {
        try (Stream<Path> files = Files.list(SAMPLE.resolve(label))) {
            return files.filter(p -> !p.getFileName().toString().contains("_mask")).sorted().toList();
        }
    }

    private static void copy(List<Path> images, Path to) throws IOException {
        Files.createDirectories(to);
        for (Path p : images) {
            Files.copy(p, to.resolve(p.getFileName()));
        }
    }

    private static Dataset<Row> datasetRows() {
        return StopsSpark.session().read().parquet(Storage.child(dataset, "images"));
    }

    private static EvaluateJob.Report evaluate(String modelUri, String split, String out) {
        return EvaluateJob.run(StopsSpark.session(), CONFIG, modelUri, dataset, split, null,
                tmp.resolve(out).toString());
    }

    @Test
    void leaveOneSiteOutModelIsTestedOnEveryImageOfItsSite() throws IOException {
        EvaluateJob.Report r = evaluate(heldOutB, null, "eval-loso");
        assertNull(r.split());
        assertEquals("B", r.site());
        assertTrue(r.selection().contains("all images of site B") && r.selection().contains("held out"), r.selection());
        long imagesOfB = datasetRows().where(functions.col("site").equalTo("B")).count();
        assertEquals(imagesOfB, r.result().metrics().count(), "every split of site B");
        assertEquals(Set.of("B"), r.perSite().keySet());

        // B has no normal images: normal has no metrics, and the macro averages cover benign and malignant.
        EvaluationResult b = r.perSite().get("B").result();
        Metrics.ClassMetrics normal = b.metrics().perClass().get(2);
        assertEquals(0, normal.support());
        assertTrue(Double.isNaN(normal.f1()) && Double.isNaN(b.rocAuc().get("normal")));
        assertEquals((b.metrics().perClass().get(0).f1() + b.metrics().perClass().get(1).f1()) / 2,
                b.metrics().macroF1(), 1e-12);
        assertEquals((b.rocAuc().get("benign") + b.rocAuc().get("malignant")) / 2, b.macroRocAuc(), 1e-12);
        assertTrue(Double.isFinite(b.malignantVsRest().sensitivity()) && Double.isFinite(b.malignantVsRest().specificity()));

        JsonNode json = Json.tree(Files.readString(tmp.resolve("eval-loso/metrics.json")));
        assertEquals(imagesOfB, json.get("perSite").get("B").get("metrics").get("count").asLong());
        assertTrue(json.get("selection").asText().contains("site B"));
        String html = Files.readString(tmp.resolve("eval-loso/report.html"));
        assertTrue(html.contains("<h2>Per site</h2>") && html.contains("<tr><td>B</td>"), "report has the per-site table");
    }

    @Test
    void explicitSplitEvaluatesEverySiteAndTheMetricsTableHasASiteColumn() {
        EvaluateJob.Report r = evaluate(heldOutB, "train", "eval-train");
        assertEquals("train", r.split());
        assertNull(r.site());
        Map<String, Long> perSite = new TreeMap<>();
        for (Row row : datasetRows().where(functions.col("split").equalTo("train")).groupBy("site").count().collectAsList()) {
            perSite.put(row.getString(0), row.getLong(1));
        }
        assertEquals(perSite.keySet(), r.perSite().keySet());
        perSite.forEach((site, n) -> assertEquals(n, r.perSite().get(site).result().metrics().count(), site));

        List<Row> table = StopsSpark.session().read().parquet(tmp.resolve("eval-train/metrics").toString())
                .select("site", "metric", "label", "value").collectAsList();
        Set<String> overallMetrics = metricNames(table, null);
        for (String site : perSite.keySet()) {
            assertEquals(overallMetrics, metricNames(table, site), "site " + site + " has the overall's metrics");
            double accuracy = table.stream().filter(t -> site.equals(t.getString(0)) && t.getString(1).equals("accuracy"))
                    .findFirst().orElseThrow().getDouble(3);
            assertEquals(r.perSite().get(site).result().metrics().accuracy(), accuracy, 1e-12);
        }
        double overall = table.stream().filter(t -> t.isNullAt(0) && t.getString(1).equals("accuracy"))
                .findFirst().orElseThrow().getDouble(3);
        assertEquals(r.result().metrics().accuracy(), overall, 1e-12);
        // B's normal class has no F1: null in the table, not 0.
        assertTrue(table.stream().anyMatch(t -> "B".equals(t.getString(0)) && t.getString(1).equals("f1")
                && "normal".equals(t.getString(2)) && t.isNullAt(3)));
    }

    private static Set<String> metricNames(List<Row> table, String site) {
        return table.stream().filter(t -> site == null ? t.isNullAt(0) : site.equals(t.getString(0)))
                .map(t -> t.getString(1) + "/" + t.getString(2)).collect(Collectors.toSet());
    }

    @Test
    void aClassFolderIsOneSiteNamedBySiteOrByTheFolder() throws IOException {
        Path named = tmp.resolve("eval-folder-named");
        BusiCliTest.Result r = BusiCliTest.run("evaluate", "--model", model, "--data", siteA.toString(),
                "--site", "Hospital-7", "--output", named.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode json = Json.tree(Files.readString(named.resolve("metrics.json")));
        assertEquals("Hospital-7", json.get("site").asText());
        assertEquals(List.of("Hospital-7"), fieldNames(json.get("perSite")));
        assertEquals(12, json.get("perSite").get("Hospital-7").get("metrics").get("count").asLong());
        List<Row> sites = StopsSpark.session().read().parquet(named.resolve("predictions").toString())
                .select("site").distinct().collectAsList();
        assertEquals(List.of("Hospital-7"), sites.stream().map(s -> s.getString(0)).toList());

        Path byFolder = tmp.resolve("eval-folder");
        r = BusiCliTest.run("evaluate", "--model", model, "--data", siteA.toString(), "--output", byFolder.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("clinic-a"), fieldNames(Json.tree(Files.readString(byFolder.resolve("metrics.json"))).get("perSite")));

        r = BusiCliTest.run("evaluate", "--model", model, "--data", dataset, "--site", "C",
                "--output", tmp.resolve("eval-unknown-site").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Site 'C' is not in the dataset") && r.err().contains("[A, B]"), r.err());
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
