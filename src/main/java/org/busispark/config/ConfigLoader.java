package org.busispark.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import org.busispark.evaluate.EvaluationResult;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Builds {@link BusiConfig} from, in increasing priority: reference.conf on the classpath, an optional
 * deployment file, and {@code key=value} overrides from the command line. Unknown keys and bad values fail
 * with a message naming the key.
 */
public final class ConfigLoader {
    private static final String ROOT = "busi";
    /** Free-form maps whose entries are passed through rather than declared in reference.conf. */
    private static final Set<String> OPEN_MAPS = Set.of("busi.spark.properties");
    private static final Set<String> LABEL_CONFLICT_POLICIES = Set.of("keep-in-train", "drop");
    private static final Set<String> SCHEDULES = Set.of("cosine", "step", "constant");
    private static final Set<String> CLASS_WEIGHTS = Set.of("balanced", "none");
    private static final Set<String> CONVOLUTIONS = Set.of("onednn", "nd4j");
    private static final Set<String> INPUT_NORMALIZATIONS = Set.of("dataset", BusiConfig.Augment.PER_IMAGE,
            BusiConfig.Augment.IMAGENET);
    private static final Set<String> SITE_BALANCE = Set.of("none", BusiConfig.Train.SITE_BALANCE_EQUAL);
    /** Site names become values of the dataset's site column and folder names of per-site reports. */
    private static final Pattern SITE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Set<String> SOURCE_KEYS = Set.of("site", "uri", "manifest");
    private static final Set<String> MANIFEST_KEYS = Set.of("image", "label", "patient", "scanner", "mask");
    private static final Set<String> OPTIMIZERS = Set.of("adabelief", "adam");
    private static final Set<String> TTA = Set.of("none", "hflip");
    private static final Set<String> ARCHITECTURES = Set.of("resnet18", "resnet34", "resnet50");
    /** A model name is one folder of the store; a leading '.' or '_' would hide it from Hadoop's listings. */
    private static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private ConfigLoader() {}

    /** Loads reference.conf alone: the built-in defaults. */
    public static BusiConfig defaults() {
        return load(null, Map.of());
    }

    public static BusiConfig load(File file, Map<String, String> overrides) {
        Config reference = ConfigFactory.defaultReference(ConfigLoader.class.getClassLoader());
        Config merged = reference;
        List<String> sources = new ArrayList<>();
        if (file != null) {
            if (!file.isFile()) {
                throw new BusiConfigException("Configuration file not found: " + file);
            }
            Config fromFile = parse(() -> ConfigFactory.parseFile(file,
                    ConfigParseOptions.defaults().setAllowMissing(false)), "file " + file);
            checkKnown(fromFile, reference, "file " + file);
            merged = fromFile.withFallback(merged);
            sources.add(file.getPath());
        }
        if (!overrides.isEmpty()) {
            Map<String, String> flat = new LinkedHashMap<>(overrides);
            Config fromArgs = parse(() -> ConfigFactory.parseMap(flat, "command line"), "command line");
            checkKnown(fromArgs, reference, "the command line");
            merged = fromArgs.withFallback(merged);
        }
        Config resolved = parse(merged::resolve, "configuration");
        return build(resolved);
    }

    private static Config parse(Supplier<Config> parser, String where) {
        try {
            return parser.get();
        } catch (ConfigException e) {
            throw new BusiConfigException("Cannot read " + where + ": " + e.getMessage(), e);
        }
    }

    private static void checkKnown(Config candidate, Config reference, String where) {
        Set<String> unknown = new TreeSet<>();
        for (Map.Entry<String, ConfigValue> e : candidate.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(ROOT + ".")) {
                unknown.add(key);
            } else if (OPEN_MAPS.stream().noneMatch(m -> key.startsWith(m + ".")) && !reference.hasPath(key)) {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            String first = unknown.iterator().next();
            String parent = first.contains(".") ? first.substring(0, first.lastIndexOf('.')) : "";
            String known = reference.hasPath(parent) && !parent.isEmpty()
                    ? " Known keys under '" + parent + "': " + reference.getConfig(parent).root().keySet()
                    : "";
            throw new BusiConfigException("Unknown setting" + (unknown.size() > 1 ? "s " : " ")
                    + String.join(", ", unknown) + " in " + where + "." + known);
        }
    }

    private static BusiConfig build(Config c) {
        Reader r = new Reader(c);
        BusiConfig.Spark spark = new BusiConfig.Spark(
                r.string("busi.spark.master"), r.string("busi.spark.app-name"), r.stringMap("busi.spark.properties"));

        BusiConfig.Split split = new BusiConfig.Split(
                r.fraction("busi.ingest.split.train"), r.fraction("busi.ingest.split.validation"),
                r.fraction("busi.ingest.split.test"));
        double sum = split.train() + split.validation() + split.test();
        if (Math.abs(sum - 1.0) > 1e-6) {
            throw new BusiConfigException("Settings busi.ingest.split.{train,validation,test} must sum to 1, got " + sum);
        }
        if (split.train() <= 0) {
            throw new BusiConfigException("Setting busi.ingest.split.train must be greater than 0");
        }
        BusiConfig.Ingest ingest = new BusiConfig.Ingest(r.positiveInt("busi.ingest.min-side"),
                r.positiveLong("busi.ingest.max-pixels"), r.positiveLong("busi.ingest.max-file-bytes"),
                r.rangeInt("busi.ingest.near-duplicate-distance", 0, 31),
                r.oneOf("busi.ingest.label-conflicts", LABEL_CONFLICT_POLICIES), split, r.longValue("busi.ingest.seed"),
                r.sources("busi.ingest.sources"));

        BusiConfig.Augment augment = new BusiConfig.Augment(
                r.fraction("busi.augment.crop-scale-min"), r.fraction("busi.augment.crop-scale-max"),
                r.positiveDouble("busi.augment.crop-ratio-min"), r.positiveDouble("busi.augment.crop-ratio-max"),
                r.fraction("busi.augment.horizontal-flip"), r.fraction("busi.augment.vertical-flip"),
                r.range("busi.augment.rotation-degrees", 0, 180), r.range("busi.augment.translate", 0, 0.5),
                r.fraction("busi.augment.brightness"), r.fraction("busi.augment.contrast"),
                r.fraction("busi.augment.blur-probability"), r.range("busi.augment.blur-sigma-max", 0, 10),
                r.fraction("busi.augment.erasing-probability"), r.fraction("busi.augment.erasing-area-max"),
                r.fraction("busi.augment.lesion-crop"),
                r.oneOf("busi.augment.input-normalization", INPUT_NORMALIZATIONS));
        r.ordered("busi.augment.crop-scale-min", augment.cropScaleMin(), "busi.augment.crop-scale-max", augment.cropScaleMax());
        r.ordered("busi.augment.crop-ratio-min", augment.cropRatioMin(), "busi.augment.crop-ratio-max", augment.cropRatioMax());
        if (augment.cropScaleMax() <= 0) {
            throw new BusiConfigException("Setting busi.augment.crop-scale-max must be greater than 0");
        }

        BusiConfig.Model model = new BusiConfig.Model(r.oneOf("busi.model.architecture", ARCHITECTURES),
                r.rangeInt("busi.model.input-size", 16, 1024), r.rangeInt("busi.model.channels", 1, 3),
                r.range("busi.model.width-multiplier", 0.0625, 4), r.stringList("busi.model.classes"),
                r.optionalString("busi.model.pretrained").strip());
        if (model.numClasses() < 2 || Set.copyOf(model.classes()).size() != model.numClasses()) {
            throw new BusiConfigException("Setting busi.model.classes must list at least two distinct class names, got "
                    + model.classes());
        }

        BusiConfig.Train train = new BusiConfig.Train(r.positiveInt("busi.train.epochs"),
                r.oneOf("busi.train.optimizer", OPTIMIZERS), r.positiveDouble("busi.train.learning-rate"),
                r.oneOf("busi.train.schedule", SCHEDULES), r.rangeInt("busi.train.warmup-epochs", 0, 10_000),
                r.positiveInt("busi.train.step-epochs"), r.range("busi.train.step-gamma", 0, 1),
                r.range("busi.train.weight-decay", 0, 1), r.oneOf("busi.train.class-weights", CLASS_WEIGHTS),
                r.rangeInt("busi.train.early-stopping-patience", 0, 10_000),
                r.rangeInt("busi.train.average-last-epochs", 0, 10_000),
                r.rangeInt("busi.train.train-accuracy-every", 0, 10_000),
                r.rangeInt("busi.train.checkpoint-every", 0, 10_000),
                r.positiveInt("busi.train.batch-size-per-worker"),
                r.positiveInt("busi.train.averaging-frequency"), r.rangeInt("busi.train.workers", 0, 100_000),
                r.storageLevel("busi.train.storage-level"), r.longValue("busi.train.seed"),
                r.oneOf("busi.train.convolutions", CONVOLUTIONS), r.oneOf("busi.train.site-balance", SITE_BALANCE),
                r.optionalString("busi.train.holdout-site").strip(),
                r.rangeInt("busi.train.freeze-epochs", 0, 10_000),
                r.range("busi.train.backbone-learning-rate-factor", 0, 1));
        if (!train.holdoutSite().isEmpty()) {
            checkSiteName("busi.train.holdout-site", train.holdoutSite());
        }
        if (train.averageLastEpochs() > train.epochs()) {
            throw new BusiConfigException("Setting busi.train.average-last-epochs must be at most busi.train.epochs ("
                    + train.epochs() + "), got " + train.averageLastEpochs());
        }
        if (train.averageLastEpochs() > 0 && train.earlyStoppingPatience() > 0) {
            throw new BusiConfigException("Settings busi.train.average-last-epochs and busi.train.early-stopping-patience "
                    + "exclude each other: an averaged model needs the schedule's last epochs; set one of them to 0");
        }
        if (train.freezeEpochs() >= train.epochs()) {
            throw new BusiConfigException("Setting busi.train.freeze-epochs must be less than busi.train.epochs ("
                    + train.epochs() + "), got " + train.freezeEpochs() + ": the backbone would never train");
        }
        if (train.backboneLearningRateFactor() == 0) {
            throw new BusiConfigException("Setting busi.train.backbone-learning-rate-factor must be greater than 0; "
                    + "busi.train.freeze-epochs keeps the backbone fixed");
        }
        if (model.pretrainedUri() == null && (train.freezeEpochs() > 0 || train.backboneLearningRateFactor() != 1)) {
            throw new BusiConfigException("Settings busi.train.freeze-epochs and busi.train.backbone-learning-rate-factor"
                    + " fine-tune pretrained weights; set busi.model.pretrained, or leave them at 0 and 1");
        }
        BusiConfig.Score score = new BusiConfig.Score(r.oneOf("busi.score.tta", TTA),
                r.rangeInt("busi.score.gradcam-top", 0, 10_000));
        String modelName = r.string("busi.store.model-name");
        if (!MODEL_NAME.matcher(modelName).matches()) {
            throw new BusiConfigException("Setting busi.store.model-name must be a folder name of letters, digits, "
                    + "'.', '_' and '-' starting with a letter or digit, got '" + modelName + "'");
        }
        BusiConfig.Promotion promotion = new BusiConfig.Promotion(
                r.oneOf("busi.store.promotion.metric", EvaluationResult.PROMOTION_METRICS.keySet()),
                r.range("busi.store.promotion.min-improvement", -1, 1));
        BusiConfig.Store store = new BusiConfig.Store(r.optionalString("busi.store.uri").strip(), modelName, promotion);
        return new BusiConfig(spark, ingest, augment, model, train, score, store);
    }

    /** A site name: letters, digits, '.', '_' and '-', starting with a letter or digit. */
    public static String checkSiteName(String where, String site) {
        if (site == null || !SITE_NAME.matcher(site).matches()) {
            throw new BusiConfigException(where + " must be a site name of letters, digits, '.', '_' and '-' "
                    + "starting with a letter or digit, got '" + site + "'");
        }
        return site;
    }

    /** Typed getters that turn Typesafe's exceptions into messages naming the key and the expectation. */
    private record Reader(Config c) {
        private <T> T get(String key, String expected, Supplier<T> getter) {
            try {
                return getter.get();
            } catch (ConfigException.WrongType | ConfigException.BadValue e) {
                throw new BusiConfigException("Setting " + key + " must be " + expected + ", got "
                        + rendered(key, e), e);
            } catch (ConfigException.Missing e) {
                throw new BusiConfigException("Setting " + key + " is missing; expected " + expected, e);
            }
        }

        /** The offending value, or Typesafe's own message when a parent of the key is not an object. */
        private String rendered(String key, ConfigException cause) {
            try {
                return c.getValue(key).render();
            } catch (ConfigException e) {
                return cause.getMessage();
            }
        }

        /** A string that may be empty: "" switches a feature off. */
        String optionalString(String key) {
            return get(key, "a string", () -> c.getString(key));
        }

        String string(String key) {
            String v = optionalString(key);
            if (v.isBlank()) {
                throw new BusiConfigException("Setting " + key + " must not be empty");
            }
            return v;
        }

        List<String> stringList(String key) {
            return get(key, "a list of strings", () -> c.getStringList(key));
        }

        Map<String, String> stringMap(String key) {
            Config sub = get(key, "an object of string values", () -> c.getConfig(key));
            Map<String, String> out = new LinkedHashMap<>();
            for (Map.Entry<String, ConfigValue> e : sub.root().entrySet()) {
                Object v = e.getValue().unwrapped();
                if (v instanceof Map || v instanceof List) {
                    throw new BusiConfigException("Setting " + key + "." + e.getKey()
                            + " must be a single value (quote Spark property names that contain dots)");
                }
                out.put(e.getKey(), String.valueOf(v));
            }
            return out;
        }

        /** The ingest sources: a list of {site, uri, manifest?} objects with distinct site names. */
        List<BusiConfig.Source> sources(String key) {
            List<? extends Config> entries = get(key, "a list of {site, uri, manifest} objects", () -> c.getConfigList(key));
            List<BusiConfig.Source> out = new ArrayList<>();
            Set<String> seen = new TreeSet<>();
            for (int i = 0; i < entries.size(); i++) {
                Config e = entries.get(i);
                String where = key + "[" + i + "]";
                BusiConfig.Source source;
                try {
                    source = source(e);
                } catch (BusiConfigException ex) {
                    throw new BusiConfigException("In " + where + ": " + ex.getMessage(), ex);
                }
                if (!seen.add(source.site())) {
                    throw new BusiConfigException("Setting " + key + " names site '" + source.site() + "' twice");
                }
                out.add(source);
            }
            return out;
        }

        private static BusiConfig.Source source(Config e) {
            unknownKeys(e, SOURCE_KEYS, "a source");
            Reader entry = new Reader(e);
            String site = checkSiteName("Setting site", entry.string("site"));
            BusiConfig.Manifest manifest = null;
            if (e.hasPath("manifest")) {
                Config m = entry.get("manifest", "an object", () -> e.getConfig("manifest"));
                unknownKeys(m, MANIFEST_KEYS, "manifest");
                Reader mr = new Reader(m);
                manifest = new BusiConfig.Manifest(mr.string("image"), mr.string("label"), mr.nullable("patient"),
                        mr.nullable("scanner"), mr.nullable("mask"));
            }
            return new BusiConfig.Source(site, entry.string("uri"), manifest);
        }

        private String nullable(String key) {
            return c.hasPath(key) ? string(key) : null;
        }

        private static void unknownKeys(Config c, Set<String> known, String where) {
            Set<String> unknown = new TreeSet<>(c.root().keySet());
            unknown.removeAll(known);
            if (!unknown.isEmpty()) {
                throw new BusiConfigException("Unknown setting" + (unknown.size() > 1 ? "s " : " ") + unknown + " in "
                        + where + ". Known keys: " + new TreeSet<>(known));
            }
        }

        long longValue(String key) {
            return get(key, "an integer", () -> c.getLong(key));
        }

        int rangeInt(String key, int min, int max) {
            int v = get(key, "an integer between " + min + " and " + max, () -> c.getInt(key));
            if (v < min || v > max) {
                throw new BusiConfigException("Setting " + key + " must be an integer between " + min + " and "
                        + max + ", got " + v);
            }
            return v;
        }

        int positiveInt(String key) {
            return rangeInt(key, 1, Integer.MAX_VALUE);
        }

        long positiveLong(String key) {
            long v = longValue(key);
            if (v < 1) {
                throw new BusiConfigException("Setting " + key + " must be a positive integer, got " + v);
            }
            return v;
        }

        double range(String key, double min, double max) {
            double v = get(key, "a number between " + min + " and " + max, () -> c.getDouble(key));
            if (!(v >= min && v <= max)) {
                throw new BusiConfigException("Setting " + key + " must be a number between " + min + " and "
                        + max + ", got " + v);
            }
            return v;
        }

        double fraction(String key) {
            return range(key, 0, 1);
        }

        double positiveDouble(String key) {
            double v = get(key, "a positive number", () -> c.getDouble(key));
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new BusiConfigException("Setting " + key + " must be a positive number, got " + v);
            }
            return v;
        }

        String oneOf(String key, Set<String> allowed) {
            String v = string(key).toLowerCase(java.util.Locale.ROOT);
            if (!allowed.contains(v)) {
                throw new BusiConfigException("Setting " + key + " must be one of " + new TreeSet<>(allowed)
                        + ", got '" + v + "'");
            }
            return v;
        }

        String storageLevel(String key) {
            String v = string(key).toUpperCase(java.util.Locale.ROOT);
            try {
                org.apache.spark.storage.StorageLevel.fromString(v);
            } catch (IllegalArgumentException e) {
                throw new BusiConfigException("Setting " + key + " must be a Spark storage level such as "
                        + "MEMORY_AND_DISK_SER, got '" + v + "'", e);
            }
            return v;
        }

        void ordered(String minKey, double min, String maxKey, double max) {
            if (min > max) {
                throw new BusiConfigException("Setting " + minKey + " (" + min + ") must not exceed " + maxKey
                        + " (" + max + ")");
            }
        }
    }
}
