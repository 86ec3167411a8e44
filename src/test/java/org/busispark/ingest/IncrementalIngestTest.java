package org.busispark.ingest;

import com.fasterxml.jackson.databind.JsonNode;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Adding images to an archive and ingesting again adds only them, and never moves or rewrites old rows. */
@ExtendWith(StopsSpark.class)
class IncrementalIngestTest {
    @TempDir
    Path tmp;


    private static void copyClass(String cls, Path archive) throws Exception {
        Path target = Files.createDirectories(archive.resolve(cls));
        try (Stream<Path> s = Files.list(Path.of("data/sample/busi", cls))) {
            for (Path p : s.toList()) {
                Files.copy(p, target.resolve(p.getFileName()));
            }
        }
    }

    private static Map<String, String> splitAndGroup(Path images) {
        List<Row> rows = StopsSpark.session().read().parquet(images.toString())
                .select("source_path", "split", "dup_group").collectAsList();
        return rows.stream().collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(1) + "/" + r.getString(2)));
    }

    @Test
    void secondRunAddsOnlyNewImagesAndOldRowsStay() throws Exception {
        Path archive = tmp.resolve("archive");
        Path out = tmp.resolve("dataset");
        copyClass("benign", archive);
        copyClass("normal", archive);
        assertEquals(0, BusiCliTest.run("ingest", "--conf", "conf/local.conf", "--input", archive.toString(),
                "--output", out.toString()).code());
        Map<String, String> before = splitAndGroup(out.resolve("images"));
        assertEquals(40, before.size());
        List<Path> oldFiles;
        try (Stream<Path> s = Files.list(out.resolve("images"))) {
            oldFiles = s.toList();
        }

        copyClass("malignant", archive);
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/local.conf", "--input", archive.toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = Json.tree(Files.readString(out.resolve("ingest-report.json")));
        assertEquals(20, report.get("accepted").asLong());
        assertEquals(40, report.get("skippedByReason").get("already-ingested").asLong());
        assertEquals(20, report.get("acceptedPerClass").get("malignant").asLong());

        Map<String, String> after = splitAndGroup(out.resolve("images"));
        assertEquals(60, after.size());
        before.forEach((path, splitGroup) -> assertEquals(splitGroup, after.get(path), path + " did not move"));
        try (Stream<Path> s = Files.list(out.resolve("images"))) {
            List<Path> now = s.toList();
            assertTrue(now.containsAll(oldFiles), "the first run's folder is untouched");
            assertEquals(oldFiles.size() + 1, now.size(), "the second run is one new folder");
        }
        assertEquals(2, Files.list(out.resolve("reports")).filter(p -> p.toString().endsWith(".json")).count());
    }
}
