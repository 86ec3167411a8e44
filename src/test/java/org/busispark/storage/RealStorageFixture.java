package org.busispark.storage;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.hadoop.conf.Configuration;
import org.busispark.cli.BusiCli;
import org.busispark.model.ModelLoadException;
import org.busispark.model.ModelRegistry;
import org.busispark.model.ModelStore;
import org.busispark.model.TinyModel;
import org.busispark.testing.StopsSpark;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the real-storage tests share: a subset of the committed BUSI sample (original "benign (12).png" names,
 * masks included), the CLI run with captured output, and the checks of an ingested dataset on any file system.
 */
final class RealStorageFixture {
    static final String[] CLASSES = {"benign", "malignant", "normal"};
    static final int IMAGES_PER_CLASS = 5;
    private static final java.nio.file.Path SAMPLE = java.nio.file.Path.of("data/sample/busi");

    private RealStorageFixture() {}

    record CliResult(int code, String out, String err) {}

    /** One sample file to upload: its path relative to the input root ("benign/benign (2).png"), its local copy. */
    record SampleFile(String relative, java.nio.file.Path local, boolean image) {}

    /** The first {@link #IMAGES_PER_CLASS} images of each class by name, each with all of its masks. */
    static List<SampleFile> sampleSubset() {
        List<SampleFile> out = new ArrayList<>();
        for (String c : CLASSES) {
            List<String> names;
            try (Stream<java.nio.file.Path> s = Files.list(SAMPLE.resolve(c))) {
                names = s.map(p -> p.getFileName().toString()).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            List<String> images = names.stream().filter(n -> n.endsWith(".png") && !n.contains("_mask"))
                    .limit(IMAGES_PER_CLASS).toList();
            assertEquals(IMAGES_PER_CLASS, images.size(), "sample images of " + c);
            for (String image : images) {
                String stem = image.substring(0, image.length() - ".png".length());
                out.add(new SampleFile(c + "/" + image, SAMPLE.resolve(c).resolve(image), true));
                names.stream().filter(n -> n.startsWith(stem + "_mask"))
                        .forEach(m -> out.add(new SampleFile(c + "/" + m, SAMPLE.resolve(c).resolve(m), false)));
            }
        }
        assertTrue(out.stream().anyMatch(f -> f.relative().contains(" (") && f.relative().contains(")")), "names with spaces and parentheses");
        return out;
    }

    /**
     * Writes the subset under {@code root} through a Hadoop file system. (Not copyFromLocalFile: s3a's in 3.3.4
     * fails on local names with spaces, "Cannot get relative path for URI:file:/.../benign%20(115).png".)
     */
    static void upload(FileSystem fs, String root, List<SampleFile> files) throws IOException {
        for (SampleFile f : files) {
            try (FSDataOutputStream out = fs.create(new Path(root + "/" + f.relative()), true)) {
                out.write(Files.readAllBytes(f.local()));
            }
        }
    }

    static CliResult cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BusiCli.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliResult(code, out.toString(), err.toString());
    }

    /** Stops any session a previous test class left, so that the CLI's settings (spark.hadoop.*) take effect. */
    static void stopAnySparkSession() {
        StopsSpark.stopAnySession();
    }

    /** The report reconciles and accounts for every uploaded file; the images are exactly the uploaded ones. */
    static void checkReport(JsonNode report, String input, List<SampleFile> uploaded) {
        long images = uploaded.stream().filter(SampleFile::image).count();
        assertEquals(Storage.normalize(input), report.get("input").asText());
        assertEquals(report.get("seen").asLong(),
                report.get("accepted").asLong() + report.get("quarantined").asLong() + report.get("skipped").asLong(),
                "seen = accepted + quarantined + skipped: " + report);
        assertEquals(uploaded.size(), report.get("seen").asLong(), "every uploaded file is seen: " + report);
        assertEquals(images, report.get("accepted").asLong(), report.toString());
        assertEquals(0, report.get("quarantined").asLong(), report.toString());
        for (String c : CLASSES) {
            assertEquals(IMAGES_PER_CLASS, report.get("acceptedPerClass").get(c).asLong(), c);
        }
        long perSplit = 0;
        for (JsonNode n : report.get("acceptedPerSplit")) {
            perSplit += n.asLong();
        }
        assertEquals(images, perSplit);
    }

    /** The images Parquet, read back: one row per uploaded image, its label, its mask, its original name. */
    static void checkImages(SparkSession spark, String imagesUri, String inputRoot, List<SampleFile> uploaded) {
        List<Row> rows = spark.read().parquet(imagesUri)
                .select("source_path", "label", "label_index", "split", "image", "mask").collectAsList();
        List<SampleFile> images = uploaded.stream().filter(SampleFile::image).toList();
        assertEquals(images.size(), rows.size());
        Map<String, String> expected = new TreeMap<>();
        for (SampleFile f : images) {
            expected.put(Storage.normalize(inputRoot) + "/" + f.relative(), f.relative().substring(0, f.relative().indexOf('/')));
        }
        Map<String, String> actual = new TreeMap<>(rows.stream().collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(1))));
        assertEquals(expected, actual, "source paths keep their scheme, authority and original names");
        for (Row r : rows) {
            assertEquals(Arrays.asList(CLASSES).indexOf(r.getString(1)), r.getInt(2), "label_index of " + r.getString(0));
            assertTrue(List.of("train", "validation", "test").contains(r.getString(3)), r.getString(3));
            assertFalse(r.isNullAt(4), "image bytes of " + r.getString(0));
            assertFalse(r.isNullAt(5), "every sample image has its mask: " + r.getString(0));
        }
        Map<String, Long> perLabel = rows.stream().collect(Collectors.groupingBy(r -> r.getString(1), TreeMap::new, Collectors.counting()));
        Map<String, Long> expectedPerLabel = new TreeMap<>();
        for (String c : CLASSES) {
            expectedPerLabel.put(c, (long) IMAGES_PER_CLASS);
        }
        assertEquals(expectedPerLabel, perLabel);
    }

    /** Names directly under {@code dir}. */

    /**
     * Publishes two tiny models to {@code store} and loads them back: the model folder follows {@code latest} to
     * the second, each version loads on its own, and a version whose marker is deleted is refused.
     */
    static void checkModelStore(Storage storage, FileSystem fs, String store, java.nio.file.Path local) throws IOException {
        Storage localStorage = new Storage(new Configuration());
        String first = TinyModel.save(localStorage, local.resolve("first").toString(), 1);
        String second = TinyModel.save(localStorage, local.resolve("second").toString(), 2);
        String v1 = TinyModel.publish(storage, store, "busi-resnet", first, null);
        String v2 = TinyModel.publish(storage, store, "busi-resnet", second, null);
        String model = ModelRegistry.modelUri(store, "busi-resnet");

        assertEquals(new TreeSet<>(List.of(v1, v2, "latest", ModelRegistry.PROMOTIONS_DIR)), new TreeSet<>(StorageContract.names(fs, model)));
        assertEquals(v2, storage.readText(model + "/latest").strip());
        assertEquals(List.of("_COMMITTED", "model-card.json", "model.zip"), StorageContract.names(fs, model + "/" + v2),
                "nothing but the version's files");
        ModelStore.LoadedModel latest = ModelStore.load(storage, model, TinyModel.CLASSES);
        assertEquals(model + "/" + v2, latest.dir());
        assertArrayEquals(localStorage.readBytes(second + "/model.zip"), latest.zip());
        assertEquals(1, ModelStore.load(storage, model + "/" + v1, null).model().card().bestEpoch());

        assertTrue(fs.delete(new Path(model + "/" + v1 + "/" + ModelRegistry.COMMITTED), false));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelStore.load(storage, model + "/" + v1, null));
        assertTrue(e.getMessage().contains(model + "/" + v1) && e.getMessage().contains("_COMMITTED"), e.getMessage());
        assertEquals(latest.dir(), ModelStore.load(storage, model, null).dir());
    }
}
