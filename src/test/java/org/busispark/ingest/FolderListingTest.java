package org.busispark.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.busispark.cli.BusiCliTest;
import org.busispark.storage.Json;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tree of few folders is listed and grouped by the driver, a tree of many by Spark tasks and a shuffle of
 * paths; both must ingest the same images with the same masks, splits and counts.
 */
@ExtendWith(StopsSpark.class)
class FolderListingTest {
    private static final Path SAMPLE = Path.of("data/sample/busi");

    @TempDir
    Path tmp;

    @Test
    void fewFoldersOnTheDriverAndManyInTasksIngestTheSameDataset() throws Exception {
        Path few = tmp.resolve("few");
        Path many = tmp.resolve("many");
        int site = 0;
        for (String cls : List.of("benign", "malignant", "normal")) {
            try (Stream<Path> s = Files.list(SAMPLE.resolve(cls))) {
                for (Path p : s.sorted().toList()) {
                    String name = p.getFileName().toString();
                    Files.createDirectories(few.resolve(cls));
                    Files.copy(p, few.resolve(cls).resolve(name));
                    // An image and its masks stay in one folder; images spread over many site folders.
                    String stem = name.replaceAll("_mask(_\\d+)?\\.png$", ".png");
                    Path folder = many.resolve(String.format("site%02d", Math.floorMod(stem.hashCode(), 40)))
                            .resolve(cls);
                    Files.createDirectories(folder);
                    Files.copy(p, folder.resolve(name));
                }
            }
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(StopsSpark.session().sparkContext());
        assertNotNull(FileListing.list(jsc, few.toString()).onDriver(), "few folders: listed by the driver");
        FileListing.Listing distributed = FileListing.list(jsc, many.toString());
        assertNull(distributed.onDriver(), "many folders: listed by tasks");
        assertEquals(count(few), distributed.distributed().count(), "every file listed");

        Dataset a = ingest(few, tmp.resolve("out-few"));
        Dataset b = ingest(many, tmp.resolve("out-many"));
        assertEquals(60, a.splits().size(), "every sample image accepted");
        assertEquals(a.splits(), b.splits(), "the same images in the same splits");
        assertEquals(a.masks(), b.masks(), "the same images with masks");
        for (String key : List.of("seen", "accepted", "quarantined", "skipped")) {
            assertEquals(a.report().get(key).asLong(), b.report().get(key).asLong(), key);
        }
        assertEquals(count(few), a.report().get("seen").asLong(), "seen counts every file");
    }

    private record Dataset(Map<String, String> splits, long masks, JsonNode report) {}

    private static Dataset ingest(Path archive, Path out) throws Exception {
        assertEquals(0, BusiCliTest.run("ingest", "--conf", "conf/local.conf", "--input", archive.toString(),
                "--output", out.toString()).code());
        List<Row> rows = StopsSpark.session().read().parquet(out.resolve("images").toString())
                .select("image_id", "split", "mask").collectAsList();
        assertTrue(rows.stream().anyMatch(r -> !r.isNullAt(2)), "masks merged");
        return new Dataset(rows.stream().collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(1), (x, y) -> x + "," + y)),
                rows.stream().filter(r -> !r.isNullAt(2)).count(),
                Json.tree(Files.readString(out.resolve("ingest-report.json"))));
    }

    private static long count(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).count();
        }
    }
}
