package org.busispark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
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

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Ingest over a folder mixing good images with bad input: nothing crashes, nothing is dropped silently. */
@ExtendWith(StopsSpark.class)
class IngestBadInputTest {
    @TempDir
    Path tmp;


    @Test
    void badFilesAreQuarantinedWithReasonsAndCountsReconcile() throws Exception {
        Path in = tmp.resolve("in");
        Path benign = Files.createDirectories(in.resolve("benign"));
        Path sample = Path.of("data/sample/busi/benign");
        try (var files = Files.list(sample)) {
            for (Path p : files.filter(p -> !p.toString().contains("_mask")).limit(3).collect(Collectors.toList())) {
                Files.copy(p, benign.resolve(p.getFileName()));
            }
        }
        Files.write(benign.resolve("empty (1).png"), new byte[0]);
        Files.writeString(benign.resolve("text (2).png"), "not an image at all");
        byte[] good = Files.readAllBytes(Files.list(benign).filter(p -> p.toString().endsWith(").png")).findFirst().orElseThrow());
        Files.write(benign.resolve("truncated (3).png"), java.util.Arrays.copyOf(good, good.length / 3));
        Files.write(benign.resolve("lonely (4)_mask.png"), good);
        Files.writeString(benign.resolve("notes.txt"), "scan notes");
        Files.write(benign.resolve(".DS_Store"), new byte[] {0, 0, 0, 1});
        Files.copy(sample.resolve(Files.list(sample).findFirst().orElseThrow().getFileName()),
                Files.createDirectories(in.resolve("unsorted")).resolve("x.png"));
        // Masks that cannot be used: another size than their image, truncated, and one of a quarantined image.
        List<String> images;
        try (var files = Files.list(benign)) {
            images = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("benign")).sorted().toList();
        }
        java.awt.image.BufferedImage small = new java.awt.image.BufferedImage(10, 10, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        javax.imageio.ImageIO.write(small, "png", benign.resolve(images.get(0).replace(".png", "_mask.png")).toFile());
        Files.write(benign.resolve(images.get(1).replace(".png", "_mask.png")), java.util.Arrays.copyOf(good, good.length / 3));
        Files.write(benign.resolve("truncated (3)_mask.png"), good);

        Path out = tmp.resolve("out");
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/local.conf",
                "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());

        JsonNode report = Json.tree(Files.readString(out.resolve("ingest-report.json")));
        assertEquals(13, report.get("seen").asLong());
        assertEquals(3, report.get("accepted").asLong());
        assertEquals(7, report.get("quarantined").asLong());
        assertEquals(3, report.get("skipped").asLong());
        JsonNode reasons = report.get("quarantinedByReason");
        assertEquals(1, reasons.get("empty-file").asLong());
        assertEquals(1, reasons.get("not-an-image").asLong());
        assertEquals(2, reasons.get("corrupt-image").asLong(), "the truncated image and the truncated mask");
        assertEquals(1, reasons.get("mask-size-mismatch").asLong());
        assertEquals(1, report.get("skippedByReason").get("mask-of-rejected-image").asLong());
        assertEquals(1, reasons.get("mask-without-image").asLong());
        assertEquals(1, reasons.get("unknown-class").asLong());
        assertEquals(1, report.get("skippedByReason").get("other-extension").asLong());
        assertEquals(1, report.get("skippedByReason").get("hidden-file").asLong());

        SparkSession spark = StopsSpark.session();
        Map<String, String> quarantined = spark.read().parquet(out.resolve("quarantine").toString())
                .collectAsList().stream().collect(Collectors.toMap(
                        (Row row) -> row.getString(0).substring(row.getString(0).lastIndexOf('/') + 1),
                        (Row row) -> row.getString(2)));
        assertEquals("empty-file", quarantined.get("empty (1).png"));
        assertEquals("corrupt-image", quarantined.get("truncated (3).png"));
        assertEquals("mask-size-mismatch", quarantined.get(images.get(0).replace(".png", "_mask.png")));
        assertEquals("corrupt-image", quarantined.get(images.get(1).replace(".png", "_mask.png")));
        assertEquals(7, quarantined.size());
    }
}
