package org.busispark.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Row;
import org.busispark.cli.BusiCliTest;
import org.busispark.storage.Json;
import org.junit.jupiter.api.BeforeAll;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.apache.spark.sql.functions.countDistinct;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Ingest of the full shared BUSI folder: duplicates found, conflicts reported, and no leakage across splits. */
@ExtendWith(StopsSpark.class)
class BusiIngestTest {
    private static final Path BUSI = Path.of("../shared/data/Dataset_BUSI_with_GT");
    @TempDir
    static Path out;
    private static JsonNode report;
    private static List<Row> rows;

    @BeforeAll
    static void ingest() throws Exception {
        assumeTrue(Files.isDirectory(BUSI), "the shared BUSI folder is not present");
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/local.conf", "--input", BUSI.toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        report = Json.tree(Files.readString(out.resolve("ingest-report.json")));
        rows = StopsSpark.session().read().parquet(out.resolve("images").toString())
                .select("source_path", "label", "split", "dup_group").collectAsList();
    }


    @Test
    void everyImageIsAcceptedAndCountsReconcile() {
        assertEquals(662, report.get("accepted").asLong());
        assertEquals(report.get("seen").asLong(), report.get("accepted").asLong()
                + report.get("quarantined").asLong() + report.get("skipped").asLong());
        assertEquals(662, rows.size());
    }

    /** 86 MB of images, less than one file's worth: one file per split per task, one task per core. */
    @Test
    void aRunWritesOneFilePerSplitPerCore() throws Exception {
        int cores = StopsSpark.session().sparkContext().defaultParallelism();
        try (var runs = Files.list(out.resolve("images"))) {
            Path run = runs.filter(p -> p.getFileName().toString().startsWith("ingest_run=")).findFirst().orElseThrow();
            for (String split : List.of("train", "validation", "test")) {
                try (var files = Files.list(run.resolve("split=" + split))) {
                    long n = files.filter(p -> p.toString().endsWith(".parquet")).count();
                    assertTrue(n >= 1 && n <= cores, split + ": " + n + " files for " + cores + " cores");
                }
            }
        }
    }

    @Test
    void noDuplicateGroupSpansTwoSplits() {
        Map<String, Long> splitsPerGroup = rows.stream().collect(Collectors.groupingBy(r -> r.getString(3),
                Collectors.mapping(r -> r.getString(2), Collectors.collectingAndThen(Collectors.toSet(), s -> (long) s.size()))));
        splitsPerGroup.forEach((g, n) -> assertEquals(1L, n, "group " + g));
        assertTrue(splitsPerGroup.size() < 662, "some images were grouped");
        long viaSpark = StopsSpark.session().read().parquet(out.resolve("images").toString())
                .groupBy("dup_group").agg(countDistinct("split").as("n")).where("n > 1").count();
        assertEquals(0, viaSpark);
    }

    @Test
    void theTableReadsBackWithTheDocumentedColumnsAndTheImagesAsIngested() throws Exception {
        var table = StopsSpark.session().read().parquet(out.resolve("images").toString());
        assertEquals("image_id:string source_path:string label:string label_index:int dup_group:string "
                        + "patient_id:string site:string scanner:string width:int height:int channels:int format:string image:binary mask:binary "
                        + "phash:bigint ingested_at:timestamp ingest_run:string split:string",
                java.util.Arrays.stream(table.schema().fields())
                        .map(f -> f.name() + ":" + f.dataType().simpleString())
                        .collect(Collectors.joining(" ")));
        Row r = table.where("source_path LIKE '%/malignant/malignant (51).png'").first();
        assertEquals(1, r.<Integer>getAs("label_index"));
        byte[] original = Files.readAllBytes(BUSI.resolve("malignant/malignant (51).png"));
        assertArrayEquals(original, r.<byte[]>getAs("image"), "8-bit gray PNGs are kept byte for byte");
        assertTrue(r.<byte[]>getAs("mask").length > 0, "the mask rides with its image");
        long age = System.currentTimeMillis() - r.<java.sql.Timestamp>getAs("ingested_at").getTime();
        assertTrue(age >= 0 && age < 3_600_000, "ingested_at is this run's time: " + age + " ms ago");
    }

    /** BUSI files these images under two classes (Pawłowska et al. 2023); their pixels are identical. */
    @Test
    void knownCrossClassDuplicatesAreReportedAsConflictsAndKeptInTrain() {
        assertTrue(report.get("duplicateGroupCount").asInt() > 50);
        String members = report.get("labelConflicts").toString();
        for (String name : new String[] {"benign (131).png", "malignant (51).png", "benign (406).png", "malignant (94).png"}) {
            assertTrue(members.contains(name), name + " in a label conflict");
        }
        for (JsonNode g : report.get("labelConflicts")) {
            assertEquals("train", g.get("split").asText());
            assertTrue(g.get("labels").size() > 1);
        }
        Map<String, String> splitOf = rows.stream().collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(2)));
        splitOf.entrySet().stream().filter(e -> e.getKey().endsWith("/malignant (51).png"))
                .forEach(e -> assertEquals("train", e.getValue()));
    }

    @Test
    void splitIsStratifiedWithinTwoPointsOfTheTarget() {
        JsonNode perSplit = report.get("datasetPerSplit");
        Map<String, Double> target = Map.of("train", 0.70, "validation", 0.15, "test", 0.15);
        for (String label : new String[] {"benign", "malignant", "normal"}) {
            double total = 0;
            for (String s : target.keySet()) {
                total += perSplit.get(s).get(label).asLong();
            }
            for (var t : target.entrySet()) {
                assertEquals(t.getValue(), perSplit.get(t.getKey()).get(label).asLong() / total, 0.02, label + " " + t.getKey());
            }
        }
    }

    @Test
    void reingestingTheSameFolderAddsNothing() throws Exception {
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/local.conf", "--input", BUSI.toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode again = Json.tree(Files.readString(out.resolve("ingest-report.json")));
        assertEquals(0, again.get("accepted").asLong());
        assertEquals(662, again.get("skippedByReason").get("already-ingested").asLong());
        assertEquals(662, StopsSpark.session().read()
                .parquet(out.resolve("images").toString()).count());
    }
}
