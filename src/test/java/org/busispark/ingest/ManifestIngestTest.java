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
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

@ExtendWith(StopsSpark.class)
class ManifestIngestTest {
    private static final Path SAMPLE = Path.of("data/sample/busi");
    @TempDir
    Path tmp;


    @Test
    void resolveKeepsPathsInsideTheManifestFolder() {
        String root = "file:/data/archive";
        assertEquals("file:/data/archive/scans/a (1).png", ManifestSource.resolve(root, "scans/a (1).png"));
        assertEquals("file:/data/archive/b.png", ManifestSource.resolve(root, "scans/../b.png"));
        assertEquals("file:/data/archive/x.png", ManifestSource.resolve(root, "/data/archive/x.png"));
        assertEquals("hdfs://nn:8020/a/b.png", ManifestSource.resolve("hdfs://nn:8020/a", "b.png"));
        assertNull(ManifestSource.resolve(root, "../secret.png"));
        assertNull(ManifestSource.resolve(root, "scans/../../secret.png"));
        assertNull(ManifestSource.resolve(root, "/etc/passwd"));
        assertNull(ManifestSource.resolve(root, "/data/archive-other/x.png"));
        assertNull(ManifestSource.resolve(root, "hdfs://nn:8020/data/archive/x.png"));
        assertNull(ManifestSource.resolve(root, " "));
    }

    private static List<Path> images(String cls, int n) throws Exception {
        try (Stream<Path> s = Files.list(SAMPLE.resolve(cls))) {
            return s.filter(p -> !p.getFileName().toString().contains("_mask")).sorted().limit(n).toList();
        }
    }

    @Test
    void manifestRowsAreIngestedOrQuarantinedWithReasons() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("archive"));
        Path scans = Files.createDirectories(root.resolve("scans"));
        StringBuilder csv = new StringBuilder("path,label,mask_path,patient_id\n");
        int i = 0;
        for (String cls : new String[] {"benign", "malignant", "normal"}) {
            for (Path p : images(cls, 4)) {
                String name = "scan (" + (i++) + ").png";
                Files.copy(p, scans.resolve(name));
                String mask = "";
                Path maskSrc = p.resolveSibling(p.getFileName().toString().replace(".png", "_mask.png"));
                if (cls.equals("malignant") && Files.exists(maskSrc)) {
                    Files.copy(maskSrc, scans.resolve("m" + name));
                    mask = "scans/m" + name;
                }
                // Scans 0 and 1 are the same patient: they must share a group and a split.
                String patient = i <= 2 ? "P-001" : "";
                csv.append("scans/").append(name).append(',').append(cls.toUpperCase()).append(',').append(mask)
                        .append(',').append(patient).append('\n');
            }
        }
        Files.copy(images("benign", 5).get(4), tmp.resolve("outside.png"));
        csv.append("../outside.png,benign,,\n");
        csv.append("/etc/passwd,benign,,\n");
        csv.append("scans/missing.png,normal,,\n");
        csv.append("scans/scan (0).png,cyst,,\n");
        Files.writeString(root.resolve("manifest.csv"), csv.toString());

        Path out = tmp.resolve("out");
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/local.conf",
                "--input", root.resolve("manifest.csv").toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = Json.tree(Files.readString(out.resolve("ingest-report.json")));
        long masks = report.get("skippedByReason").path("mask-merged").asLong();
        assertEquals(4, masks);
        assertEquals(16 + masks, report.get("seen").asLong());
        assertEquals(report.get("seen").asLong(), report.get("accepted").asLong()
                + report.get("quarantined").asLong() + report.get("skipped").asLong());
        assertEquals(12, report.get("accepted").asLong());
        JsonNode q = report.get("quarantinedByReason");
        assertEquals(2, q.get("path-escapes-root").asLong());
        assertEquals(1, q.get("missing-file").asLong());
        assertEquals(1, q.get("unknown-class").asLong());

        List<Row> rows = StopsSpark.session().read()
                .parquet(out.resolve("images").toString())
                .select("source_path", "label", "split", "dup_group", "patient_id", "mask").collectAsList();
        Map<String, Row> byName = rows.stream().collect(Collectors.toMap(
                x -> x.getString(0).substring(x.getString(0).lastIndexOf('/') + 1), x -> x));
        assertEquals("benign", byName.get("scan (0).png").getString(1));
        assertEquals("P-001", byName.get("scan (0).png").getString(4));
        assertEquals(byName.get("scan (0).png").getString(3), byName.get("scan (1).png").getString(3));
        assertEquals(byName.get("scan (0).png").getString(2), byName.get("scan (1).png").getString(2));
        assertNotNull(byName.get("scan (4).png").get(5), "malignant rows carry their mask");
        assertNull(byName.get("scan (0).png").get(5));
    }
}
