package org.busispark.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private File conf(String text) throws IOException {
        Path f = Files.createTempFile(dir, "test", ".conf");
        Files.writeString(f, text);
        return f.toFile();
    }

    /** Loading must fail with a BusiConfigException whose message contains every fragment. */
    private static void assertRejected(ThrowingLoad load, String... fragments) {
        BusiConfigException e = assertThrows(BusiConfigException.class, load::run);
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), () -> "'" + fragment + "' not in: " + e.getMessage());
        }
    }

    private interface ThrowingLoad {
        void run() throws Exception;
    }

    private void assertFileRejected(String text, String... fragments) {
        assertRejected(() -> ConfigLoader.load(conf(text), Map.of()), fragments);
    }

    @Test
    void defaultsMatchReferenceConf() {
        BusiConfig c = ConfigLoader.defaults();
        assertEquals(new BusiConfig.Spark("local[*]", "busi-spark", Map.of()), c.spark());
        assertEquals(new BusiConfig.Ingest(32, 40_000_000L, 268_435_456L, 8, "keep-in-train", new BusiConfig.Split(0.70, 0.15, 0.15), 42, List.of()), c.ingest());
        assertEquals(new BusiConfig.Augment(0.7, 1.0, 0.8, 1.25, 0.5, 0.0, 10, 0.05, 0.1, 0.2, 0.2, 1.0, 0.25, 0.15, 0.0, "dataset"), c.augment());
        assertEquals(new BusiConfig.Model("resnet18", 128, 1, 1.0, List.of("benign", "malignant", "normal")),
                c.model());
        assertEquals(new BusiConfig.Train(30, "adabelief", 0.001, "cosine", 2, 10, 0.5, 0.0001, "balanced", 0, 0, 1, 5, 16, 5, 0,
                        "MEMORY_AND_DISK_SER", 12345, "onednn", "none", "", 0, 1.0),
                c.train());
        assertEquals(new BusiConfig.Store("", "busi-resnet", new BusiConfig.Promotion("macro-f1", 0.01)), c.store());
        assertFalse(c.store().enabled(), "an empty store uri publishes nothing");
    }

    @Test
    void fileOverridesDefaultsAndKeepsTheRest() throws IOException {
        BusiConfig c = ConfigLoader.load(conf("busi.train.epochs = 3\nbusi { model { input-size = 64 } }"), Map.of());
        assertEquals(3, c.train().epochs());
        assertEquals(64, c.model().inputSize());
        assertEquals("adabelief", c.train().optimizer());
        assertEquals(32, c.ingest().minSide());
    }

    @Test
    void commandLineOverridesWinOverFile() throws IOException {
        BusiConfig c = ConfigLoader.load(conf("busi.train.epochs = 3\nbusi.train.seed = 9"),
                Map.of("busi.train.epochs", "7", "busi.spark.master", "local[1]"));
        assertEquals(7, c.train().epochs());
        assertEquals(9, c.train().seed());
        assertEquals("local[1]", c.spark().master());
    }

    @Test
    void fileMayUseHoconSubstitutions() throws IOException {
        BusiConfig c = ConfigLoader.load(
                conf("busi.spark.master = ${?BUSI_TEST_UNSET_VARIABLE}\nbusi.train.epochs = ${busi.train.averaging-frequency}"),
                Map.of());
        assertEquals("local[*]", c.spark().master());
        assertEquals(5, c.train().epochs());
    }

    /** Every value a shipped deployment file sets must reach the typed configuration, whatever it is tuned to. */
    static Stream<String> shippedConfFiles() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("conf"))) {
            List<String> confs = files.map(Path::toString).filter(f -> f.endsWith(".conf")).sorted().toList();
            assertTrue(confs.containsAll(List.of("conf/local.conf", "conf/cluster.conf")), confs.toString());
            return confs.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("shippedConfFiles")
    void shippedConfFilesLoadAndApply(String path) {
        // The pretrained recipe needs its weights (BUSI_PRETRAINED): a path stands in for them.
        BusiConfig c = ConfigLoader.load(new File(path), Map.of("busi.model.pretrained", "file:/weights/resnet18.pth"));
        com.typesafe.config.Config raw = com.typesafe.config.ConfigFactory.parseFile(new File(path));
        assertEquals(raw.getString("busi.spark.master"), c.spark().master());
        assertEquals(raw.getInt("busi.model.input-size"), c.model().inputSize());
        assertEquals(raw.getDouble("busi.model.width-multiplier"), c.model().widthMultiplier());
        assertEquals(raw.getInt("busi.train.epochs"), c.train().epochs());
        assertEquals(raw.getInt("busi.train.batch-size-per-worker"), c.train().batchSizePerWorker());
        assertEquals(raw.hasPath("busi.store.uri") ? raw.getString("busi.store.uri") : "", c.store().uri());
        if (raw.hasPath("busi.store.promotion")) {
            assertEquals(raw.getString("busi.store.promotion.metric"), c.store().promotion().metric());
            assertEquals(raw.getDouble("busi.store.promotion.min-improvement"), c.store().promotion().minImprovement());
        }
        for (var e : raw.getConfig("busi.spark.properties").entrySet()) {
            String key = com.typesafe.config.ConfigUtil.splitPath(e.getKey()).get(0);
            assertEquals(String.valueOf(e.getValue().unwrapped()), c.spark().properties().get(key), key);
        }
    }

    @Test
    void unknownKeyInFileIsNamed() {
        assertFileRejected("busi.train.epochz = 3", "busi.train.epochz", "epochs");
    }

    @Test
    void keyOutsideBusiIsUnknown() {
        assertFileRejected("spark.master = \"yarn\"", "spark.master");
    }

    @Test
    void unknownKeyInOverridesIsNamed() {
        assertRejected(() -> ConfigLoader.load(null, Map.of("busi.model.architecure", "resnet50")),
                "busi.model.architecure", "command line");
    }

    @Test
    void wrongTypeNamesKeyAndExpectation() {
        assertFileRejected("busi.train.epochs = \"many\"", "busi.train.epochs", "integer");
        assertRejected(() -> ConfigLoader.load(null, Map.of("busi.train.epochs", "many")), "busi.train.epochs", "integer");
    }

    @Test
    void scalarInPlaceOfSectionIsAConfigError() {
        assertFileRejected("busi.train = 5", "busi.train");
    }

    @Test
    void outOfRangeIsRejected() {
        assertFileRejected("busi.augment.horizontal-flip = 1.5", "busi.augment.horizontal-flip", "1.5");
        assertFileRejected("busi.model.channels = 4", "busi.model.channels");
        assertFileRejected("busi.augment.crop-scale-min = 0.9\nbusi.augment.crop-scale-max = 0.8",
                "busi.augment.crop-scale-min");
        assertFileRejected("busi.train.epochs = 10\nbusi.train.average-last-epochs = 11",
                "busi.train.average-last-epochs", "at most", "10");
        assertFileRejected("busi.train.train-accuracy-every = -1", "busi.train.train-accuracy-every");
    }

    @Test
    void fineTuningSettingsNeedWeightsToTuneAndABackboneThatLearns() {
        assertRejected(() -> ConfigLoader.load(null, Map.of("busi.train.freeze-epochs", "2")),
                "busi.train.freeze-epochs", "set busi.model.pretrained");
        assertRejected(() -> ConfigLoader.load(null, Map.of("busi.train.backbone-learning-rate-factor", "0.1")),
                "set busi.model.pretrained");
        Map<String, String> weights = Map.of("busi.model.pretrained", "s3a://b/resnet18.pth");
        assertRejected(() -> ConfigLoader.load(null, merge(weights, "busi.train.freeze-epochs", "30")),
                "busi.train.freeze-epochs must be less than busi.train.epochs (30)");
        assertRejected(() -> ConfigLoader.load(null, merge(weights, "busi.train.backbone-learning-rate-factor", "0")),
                "backbone-learning-rate-factor must be greater than 0");
        BusiConfig c = ConfigLoader.load(null, merge(merge(weights, "busi.train.freeze-epochs", "3"),
                "busi.augment.input-normalization", "imagenet"));
        assertEquals("s3a://b/resnet18.pth", c.model().pretrainedUri());
        assertTrue(c.train().backboneScheduled() && c.augment().imageNetNormalization());
        assertEquals(null, ConfigLoader.defaults().model().pretrainedUri());
        assertFalse(ConfigLoader.defaults().train().backboneScheduled());
    }

    private static Map<String, String> merge(Map<String, String> base, String key, String value) {
        Map<String, String> m = new java.util.HashMap<>(base);
        m.put(key, value);
        return m;
    }

    @Test
    void splitFractionsMustSumToOne() {
        assertFileRejected("busi.ingest.split { train = 0.7, validation = 0.2, test = 0.2 }", "busi.ingest.split", "sum to 1");
        BusiConfig ok = ConfigLoader.load(null, Map.of("busi.ingest.split.train", "0.8", "busi.ingest.split.validation",
                "0.1", "busi.ingest.split.test", "0.1"));
        assertEquals(new BusiConfig.Split(0.8, 0.1, 0.1), ok.ingest().split());
    }

    @Test
    void badOptimizerListsAllowedValues() {
        assertFileRejected("busi.train.optimizer = sgd", "busi.train.optimizer", "adabelief", "adam", "sgd");
        assertEquals("adam", ConfigLoader.load(null, Map.of("busi.train.optimizer", "ADAM")).train().optimizer());
    }

    @Test
    void badStorageLevelIsRejected() {
        assertFileRejected("busi.train.storage-level = MEMORY_SOMETIMES", "busi.train.storage-level", "MEMORY_SOMETIMES");
        assertEquals("MEMORY_ONLY",
                ConfigLoader.load(null, Map.of("busi.train.storage-level", "memory_only")).train().storageLevel());
    }

    @Test
    void missingFileIsAConfigError() {
        File missing = dir.resolve("nope.conf").toFile();
        assertRejected(() -> ConfigLoader.load(missing, Map.of()), "nope.conf");
    }

    @Test
    void syntaxErrorIsAConfigError() {
        assertFileRejected("busi { train { epochs = ", "Cannot read");
    }

    @Test
    void sparkPropertiesAcceptArbitraryQuotedKeys() throws IOException {
        BusiConfig c = ConfigLoader.load(conf("busi.spark.properties {\n  \"spark.executor.memory\" = \"8g\"\n"
                + "  \"spark.sql.shuffle.partitions\" = 12\n}"),
                Map.of("busi.spark.properties.\"spark.ui.enabled\"", "false"));
        assertEquals(Map.of("spark.executor.memory", "8g", "spark.sql.shuffle.partitions", "12",
                "spark.ui.enabled", "false"), c.spark().properties());
    }

    @Test
    void unquotedDottedSparkPropertyIsExplained() {
        assertFileRejected("busi.spark.properties { spark.executor.memory = 8g }", "busi.spark.properties", "quote");
    }

    @Test
    void storeUriMayBeEmptyOrSetAndModelNameMustBeAFolderName() {
        BusiConfig c = ConfigLoader.load(null, Map.of("busi.store.uri", "s3a://bucket/busi", "busi.store.model-name", "busi-v2.1"));
        assertEquals(new BusiConfig.Store("s3a://bucket/busi", "busi-v2.1", new BusiConfig.Promotion("macro-f1", 0.01)), c.store());
        assertTrue(c.store().enabled());
        assertFalse(ConfigLoader.load(null, Map.of("busi.store.uri", " ")).store().enabled());
        assertRejected(() -> ConfigLoader.load(null, Map.of("busi.store.model-name", "../other")),
                "busi.store.model-name", "../other");
        assertFileRejected("busi.store.model-name = \"_hidden\"", "busi.store.model-name");
        assertFileRejected("busi.store.uri = [1]", "busi.store.uri", "a string");
    }

    @Test
    void promotionNeedsAKnownMetricAndABoundedMargin() {
        BusiConfig c = ConfigLoader.load(null, Map.of("busi.store.promotion.metric", "Accuracy",
                "busi.store.promotion.min-improvement", "-0.02"));
        assertEquals(new BusiConfig.Promotion("accuracy", -0.02), c.store().promotion());
        assertRejected(() -> ConfigLoader.load(null, Map.of("busi.store.promotion.metric", "loss")),
                "busi.store.promotion.metric", "macro-f1", "malignant-sensitivity", "'loss'");
        assertRejected(() -> ConfigLoader.load(null, Map.of("busi.store.promotion.min-improvement", "2")),
                "busi.store.promotion.min-improvement", "between -1.0 and 1.0");
        assertFileRejected("busi.store.promotion.margin = 0.1", "busi.store.promotion.margin", "min-improvement");
    }

    @Test
    void sourcesAreReadWithTheirManifestMapping() throws IOException {
        BusiConfig c = ConfigLoader.load(new File("conf/multi-site.conf"), Map.of());
        assertEquals(List.of(new BusiConfig.Source("BUSI", "data/sample/busi", null),
                new BusiConfig.Source("BUS-BRA", "data/sample/bus-bra/bus_data.csv", new BusiConfig.Manifest(
                        "Images/{ID}.png", "Pathology", "Case", "Device", "Masks/mask_{ID#bus_}.png"))),
                c.ingest().sources());
        BusiConfig partial = ConfigLoader.load(conf("busi.ingest.sources = [{site = a, uri = \"x.csv\", "
                + "manifest {image = f, label = l}}]"), Map.of());
        assertEquals(new BusiConfig.Manifest("f", "l", null, null, null), partial.ingest().sources().get(0).manifest());
    }

    @Test
    void badSourcesAreRejectedNamingTheEntry() throws IOException {
        assertFileRejected("busi.ingest.sources = [{site = a, uri = x}, {site = a, uri = y}]", "site 'a' twice");
        assertFileRejected("busi.ingest.sources = [{site = a, url = x}]", "busi.ingest.sources[0]", "url");
        assertFileRejected("busi.ingest.sources = [{site = \"a b\", uri = x}]", "busi.ingest.sources[0]", "site name");
        assertFileRejected("busi.ingest.sources = [{site = a, uri = x.csv, manifest {image = i}}]",
                "busi.ingest.sources[0]", "label");
        assertFileRejected("busi.ingest.sources = [{site = a, uri = x.csv, manifest {image = i, label = l, "
                + "patients = p}}]", "busi.ingest.sources[0]", "patients");
        assertFileRejected("busi.ingest.sources = \"BUSI\"", "busi.ingest.sources");
        assertFileRejected("busi.train.holdout-site = \"../x\"", "busi.train.holdout-site");
        assertFileRejected("busi.train.site-balance = \"by-class\"", "busi.train.site-balance");
    }
}
