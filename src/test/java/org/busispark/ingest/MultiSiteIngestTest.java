package org.busispark.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.busispark.cli.BusiCliTest;
import org.busispark.storage.Json;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Several archives as one dataset: a class-folder site and a metadata-CSV site in its published layout. */
@ExtendWith(StopsSpark.class)
class MultiSiteIngestTest {
    private static final Path BUSI = Path.of("data/sample/busi");
    private static final Path BUS_BRA = Path.of("data/sample/bus-bra");
    private static final Path SHARED_BUS_BRA = Path.of("../shared/data/BUS-BRA");
    @TempDir
    Path tmp;

    private static Dataset<Row> images(Path dataset) {
        return ImageSources.ingested(StopsSpark.session(), dataset.toString(), null);
    }

    private static JsonNode report(Path dataset) throws Exception {
        return Json.tree(Files.readString(dataset.resolve("ingest-report.json")));
    }

    /** Patients (within a site) found in more than one split. */
    private static long patientsInSeveralSplits(Dataset<Row> rows) {
        return rows.where("patient_id IS NOT NULL").groupBy("site", "patient_id")
                .agg(org.apache.spark.sql.functions.countDistinct("split").as("n")).where("n > 1").count();
    }

    @Test
    void busBraIngestsFromItsPublishedLayoutBesideAClassFolderSite() throws Exception {
        Path out = tmp.resolve("dataset");
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/multi-site.conf", "--output", out.toString());
        assertEquals(0, r.code(), r.err());

        Dataset<Row> rows = images(out);
        Map<String, Long> perSite = rows.groupBy("site").count().collectAsList().stream()
                .collect(Collectors.toMap(x -> x.getString(0), x -> x.getLong(1)));
        long csvRows = Files.readAllLines(BUS_BRA.resolve("bus_data.csv")).size() - 1;
        assertEquals(csvRows, perSite.get("BUS-BRA"), "every BUS-BRA row is an image");
        assertEquals(60, perSite.get("BUSI"));

        Row bra = rows.where("source_path LIKE '%/Images/bus_0001-l.png'").first();
        assertEquals("malignant", bra.getAs("label"));
        assertEquals("1", bra.getAs("patient_id"));
        assertEquals("GE Logiq 7 @10-14MHz", bra.getAs("scanner"));
        assertNotNull(bra.getAs("mask"), "its mask comes from Masks/mask_0001-l.png");
        Row busi = rows.where("site = 'BUSI'").first();
        assertNull(busi.getAs("patient_id"));
        assertNull(busi.getAs("scanner"));

        assertEquals(0, patientsInSeveralSplits(rows), "no patient spans two splits");
        JsonNode report = report(out);
        JsonNode bySite = report.get("perSite");
        for (String site : List.of("BUSI", "BUS-BRA")) {
            JsonNode s = bySite.get(site);
            assertEquals(s.get("seen").asLong(), s.path("accepted").asLong() + s.path("quarantined").asLong()
                    + s.path("skipped").asLong(), site);
        }
        assertEquals(csvRows, bySite.get("BUS-BRA").get("accepted").asLong());
        assertEquals(maskCount(BUSI) + csvRows, report.get("skippedByReason").get("mask-merged").asLong(),
                "every mask of both sites merged into its image");
        JsonNode braSplits = report.get("datasetPerSite").get("BUS-BRA");
        for (String split : List.of("train", "validation", "test")) {
            for (String label : List.of("benign", "malignant")) {
                assertTrue(braSplits.path(split).path(label).asLong() > 0,
                        "site x class stratification gives " + split + " some " + label + " images of BUS-BRA");
            }
            assertTrue(braSplits.path(split).path("normal").isMissingNode(), "BUS-BRA has no normal images");
        }
    }

    @Test
    void badManifestRowsAreQuarantinedWithTheirReasons() throws Exception {
        Path archive = tmp.resolve("bra");
        copyTree(BUS_BRA, archive);
        List<String> csv = new java.util.ArrayList<>(Files.readAllLines(archive.resolve("bus_data.csv")));
        String template = csv.get(1); // bus_0359-l,359,intraductal papilloma,benign,...
        csv.add(template.replace("bus_0359-l", "bus_9999-l").replace(",359,", ",9999,")); // no such image
        csv.add(template.replace("bus_0359-l,359,intraductal papilloma,benign", "bus_0359-l,359,x,suspicious"));
        csv.add(template.replace("bus_0359-l", ""));
        Files.write(archive.resolve("bus_data.csv"), csv);

        Path out = tmp.resolve("dataset");
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/multi-site.conf",
                "--input", "BUS-BRA=" + archive.resolve("bus_data.csv"), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = report(out);
        JsonNode q = report.get("quarantinedByReason");
        assertEquals(1, q.get("missing-file").asLong());
        assertEquals(1, q.get("unknown-class").asLong());
        assertEquals(1, q.get("missing-field").asLong());
        assertEquals(report.get("seen").asLong(), report.get("accepted").asLong() + report.get("quarantined").asLong()
                + report.get("skipped").asLong());
        List<Row> quarantine = StopsSpark.session().read().parquet(out.resolve("quarantine").toString())
                .select("reason", "detail").collectAsList();
        assertTrue(quarantine.stream().anyMatch(x -> x.getString(0).equals("unknown-class")
                && x.getString(1).contains("'suspicious'")), quarantine.toString());
        assertEquals(List.of("BUS-BRA"), ImageSources.sites(images(out)), "only the named input was ingested");
    }

    @Test
    void addingASiteLaterMovesNoImageAlreadySplit() throws Exception {
        Path out = tmp.resolve("dataset");
        assertEquals(0, BusiCliTest.run("ingest", "--conf", "conf/multi-site.conf", "--input", "BUSI=" + BUSI,
                "--output", out.toString()).code());
        Map<String, String> before = splits(images(out));

        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/multi-site.conf", "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Dataset<Row> after = images(out);
        Map<String, String> busiAfter = splits(after.where("site = 'BUSI'"));
        assertEquals(before, busiAfter, "BUSI's images keep their splits");
        assertEquals(2, after.select("ingest_run").distinct().count(), "BUS-BRA came as a run of its own");
        JsonNode report = report(out);
        assertEquals(60, report.get("perSite").get("BUSI").get("skipped").asLong() - maskCount(BUSI));
        assertEquals(0, report.get("perSite").get("BUSI").path("accepted").asLong());
    }

    @Test
    void everyBusBraPatientOfTheReleaseLandsInOneSplit() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(SHARED_BUS_BRA.resolve("bus_data.csv")), "shared BUS-BRA present");
        Path out = tmp.resolve("dataset");
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/multi-site.conf",
                "--input", "BUS-BRA=" + SHARED_BUS_BRA.resolve("bus_data.csv"), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Dataset<Row> rows = images(out);
        long cases = Files.readAllLines(SHARED_BUS_BRA.resolve("bus_data.csv")).stream().skip(1)
                .map(l -> l.split(",")[1]).distinct().count();
        assertEquals(cases, rows.select("patient_id").distinct().count(), "every Case is in the dataset");
        assertEquals(0, patientsInSeveralSplits(rows), "no Case spans two splits");
        Map<String, Long> perSplit = new TreeMap<>();
        rows.groupBy("split").count().collectAsList().forEach(x -> perSplit.put(x.getString(0), x.getLong(1)));
        double test = perSplit.get("test") / (double) rows.count();
        assertTrue(test > 0.10 && test < 0.20, "test share near 0.15 by patient groups: " + perSplit);
    }

    private static Map<String, String> splits(Dataset<Row> rows) {
        return rows.select("source_path", "split").collectAsList().stream()
                .collect(Collectors.toMap(x -> x.getString(0), x -> x.getString(1)));
    }

    private static long maskCount(Path folder) throws Exception {
        try (var s = Files.walk(folder)) {
            return s.filter(p -> p.getFileName().toString().contains("_mask")).count();
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
