package org.busispark.cli;

import org.apache.spark.sql.SparkSession;
import org.busispark.config.BusiConfig;
import org.busispark.config.BusiConfigException;
import org.busispark.config.ConfigLoader;
import org.busispark.config.Nd4jRuntime;
import org.busispark.config.SparkSessions;
import org.busispark.augment.Augmenter;
import org.busispark.augment.Preprocessor;
import org.busispark.evaluate.EvaluateJob;
import org.busispark.evaluate.PromotionGate;
import org.busispark.ingest.ImageCodec;
import org.busispark.ingest.ImageSources;
import org.busispark.ingest.ImageTable;
import org.busispark.ingest.IngestJob;
import org.busispark.ingest.IngestSources;
import org.busispark.ingest.Splits;
import org.busispark.model.ModelLoadException;
import org.busispark.model.ModelRegistry;
import org.busispark.model.ModelStore;
import org.busispark.model.Promotion;
import org.busispark.score.ScoreJob;
import org.busispark.storage.Progress;
import org.busispark.storage.Storage;
import org.busispark.train.TrainJob;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.File;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** The {@code busi} command line: one subcommand per pipeline stage, and {@code run} for all of them. */
@Command(name = "busi", mixinStandardHelpOptions = true, versionProvider = BusiCli.Version.class,
        description = {
                "Train and serve a breast-ultrasound classifier (benign / malignant / normal) on Apache Spark.",
                "",
                "Typical use:",
                "  busi run --conf conf/local.conf --input data/sample/busi --output out/local-run",
                "  busi score --model out/local-run/model --input /archive/new-scans --output out/scores",
                "",
                "Paths are Hadoop URIs (file:, hdfs:, s3a:) or local paths. Settings come from reference.conf,",
                "then --conf FILE, then -Dkey=value (e.g. -Dbusi.train.epochs=20)."},
        subcommands = {BusiCli.Ingest.class, BusiCli.Train.class, BusiCli.Evaluate.class, BusiCli.Score.class,
                BusiCli.Run.class, BusiCli.Promote.class, BusiCli.AugmentPreview.class, CommandLine.HelpCommand.class})
public final class BusiCli {
    /** Exit code for a problem the user can fix: bad configuration, missing input, unusable model. */
    static final int USER_ERROR = 2;
    static final int FAILURE = 1;
    /** Where `run` writes the champion's re-evaluation on the challenger's test split. */
    static final String CHAMPION_EVALUATION = "champion-evaluation";
    static final String MODEL_HELP = "Model folder, a training output, or a model store's <store>/models/<name> "
            + "(its latest version) or <store>/models/<name>/<version>.";

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit code (0 success, 1 failure, 2 usage or user error). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        Nd4jRuntime.configure();
        CommandLine cli = new CommandLine(new BusiCli());
        cli.setOut(out).setErr(err).setUsageHelpWidth(110);
        Progress.redirect(out);
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean user = ex instanceof BusiConfigException || ex instanceof ModelLoadException
                    || ex instanceof IllegalArgumentException;
            cmd.getErr().println("busi " + cmd.getCommandName() + ": " + (user ? "" : "failed: ") + message(ex));
            if (!user) {
                ex.printStackTrace(cmd.getErr());
            }
            return user ? USER_ERROR : FAILURE;
        });
        return cli.execute(args);
    }

    private static String message(Throwable ex) {
        String m = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        return ex.getCause() != null && ex.getCause().getMessage() != null && !m.contains(ex.getCause().getMessage())
                ? m + " (" + ex.getCause().getMessage() + ")" : m;
    }

    /** Options every stage takes: where settings come from. */
    static final class Settings {
        @Option(names = "--conf", paramLabel = "FILE", description = "Settings file (HOCON), e.g. conf/local.conf.")
        File conf;

        @Option(names = "-D", paramLabel = "KEY=VALUE", mapFallbackValue = "",
                description = "Override one setting, e.g. -Dbusi.train.epochs=20 (repeatable).")
        Map<String, String> overrides = new LinkedHashMap<>();

        /** {@code options}: settings a stage's own options give, applied after the -D overrides. */
        BusiConfig load(Map<String, String> options) {
            Map<String, String> all = new LinkedHashMap<>(overrides);
            all.putAll(options);
            return ConfigLoader.load(conf, all);
        }
    }

    /** Loads settings, runs the stage in a SparkSession, and always stops Spark afterwards. */
    abstract static class Stage implements Callable<Integer> {
        @Mixin
        Settings settings;

        @Option(names = "--output", required = true, paramLabel = "URI",
                description = "Folder to write to (file:, hdfs:, s3a: or a local path); see above for what goes there.")
        String output;

        @Override
        public Integer call() {
            BusiConfig config = settings.load(settingOptions());
            SparkSession spark = SparkSessions.create(config.spark());
            try {
                run(spark, config);
            } finally {
                spark.stop();
            }
            return 0;
        }

        abstract void run(SparkSession spark, BusiConfig config);

        /** Settings given by this stage's own options, by key (e.g. --tta sets busi.score.tta). */
        Map<String, String> settingOptions() {
            return Map.of();
        }

        /**
         * When busi.store.uri is set, publishes {@code <output>/model} (with its evaluation in {@code evaluationDir},
         * unless null) and promotes it if it beats the champion ({@link PromotionGate}).
         */
        void publish(SparkSession spark, BusiConfig config, EvaluateJob.Report evaluation, String evaluationDir) {
            if (config.store().enabled()) {
                String command = "busi " + getClass().getAnnotation(Command.class).name();
                PromotionGate.publish(spark, config, Storage.child(output, ModelStore.MODEL_DIR), evaluation,
                        evaluationDir, Storage.child(output, CHAMPION_EVALUATION), command);
            }
        }
    }

    static final String INPUT_HELP = "An archive, as NAME=URI (NAME: its site) or URI (the site is its folder's name): "
            + "a folder with benign/, malignant/, normal/ subfolders, or a metadata CSV (its columns mapped by the "
            + "busi.ingest.sources entry of the same site name). Repeat for several sites; default: busi.ingest.sources.";

    @Command(name = "ingest", mixinStandardHelpOptions = true,
            description = {"Read images (class folders: benign/, malignant/, normal/, masks as NAME_mask.png; or a "
                    + "metadata CSV) from one or several sites into one Parquet dataset split into "
                    + "train/validation/test, by patient and duplicate group, stratified by site and class.",
                    "Writes <output>/images/, <output>/quarantine/ and <output>/ingest-report.json.",
                    "Example: busi ingest --input BUSI=/data/busi --input BUS-BRA=/data/bus-bra/bus_data.csv "
                            + "--conf conf/multi-site.conf --output /data/dataset"})
    static final class Ingest extends Stage {
        @Option(names = "--input", paramLabel = "[NAME=]URI", description = INPUT_HELP)
        List<String> inputs = new java.util.ArrayList<>();

        @Override
        void run(SparkSession spark, BusiConfig config) {
            IngestJob.run(spark, config, IngestSources.resolve(inputs, config.ingest().sources()), output);
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Train a ResNet on an ingested dataset with Spark parameter averaging.",
                    "Writes <output>/model/model.zip, <output>/model/model-card.json and <output>/history/.",
                    "With busi.store.uri set, also publishes the model as a new version of <store>/models/<name>; "
                            + "without a test evaluation it becomes 'latest' only if it is the first."})
    static final class Train extends Stage {
        @Option(names = "--data", required = true, paramLabel = "URI", description = "Dataset written by `busi ingest`.")
        String data;
        @Option(names = "--resume", description = "Continue from the newest complete checkpoint under --output.")
        boolean resume;

        @Override
        void run(SparkSession spark, BusiConfig config) {
            TrainJob.run(spark, config, data, output, resume);
            publish(spark, config, null, null);
        }
    }

    @Command(name = "evaluate", mixinStandardHelpOptions = true,
            description = {"Measure a model on labelled images, overall and per site: accuracy, average loss, macro-F1, "
                    + "per-class metrics, the confusion matrix, ROC-AUC, malignant sensitivity and specificity.",
                    "Writes <output>/metrics.json, <output>/metrics/, <output>/predictions/, <output>/plots/ and "
                            + "<output>/report.html."})
    static final class Evaluate extends Stage {
        @Option(names = "--model", required = true, paramLabel = "URI", description = MODEL_HELP)
        String model;
        @Option(names = "--data", required = true, paramLabel = "URI",
                description = "An ingested dataset, or a folder with benign/, malignant/, normal/ subfolders.")
        String data;
        @Option(names = "--split", paramLabel = "NAME", description = "Split of an ingested dataset (default: test; "
                + "for a model trained with a site held out, every image of that site).")
        String split;
        @Option(names = "--site", paramLabel = "NAME", description = "The site of a class-folder tree's images "
                + "(default: the folder's name); for an ingested dataset, evaluate only this site (all of its splits "
                + "unless --split).")
        String site;

        @Override
        void run(SparkSession spark, BusiConfig config) {
            EvaluateJob.run(spark, config, model, data, split, site, output);
        }
    }

    @Command(name = "score", mixinStandardHelpOptions = true,
            description = {"Predict every image under a folder tree (labels not needed) or an ingested dataset that "
                    + "this model version has not scored yet.",
                    "Writes <output>/predictions/model_version=<version>/ (Parquet, one new folder per run), Grad-CAM "
                            + "overlays to <output>/gradcam/model_version=<version>/ and <output>/score-report.json."})
    static final class Score extends Stage {
        @Option(names = "--model", required = true, paramLabel = "URI", description = MODEL_HELP)
        String model;
        @Option(names = "--input", required = true, paramLabel = "[SITE=]URI", description = "Images to score: a folder "
                + "tree, an ingested dataset, or a metadata CSV (mapped by the busi.ingest.sources entry of its SITE). "
                + "Predictions record the site (default: the folder's name), and a CSV's patient and scanner.")
        String input;
        @Option(names = "--tta", paramLabel = "none|hflip",
                description = "Test-time augmentation: hflip averages each image with its mirror image (busi.score.tta).")
        String tta;
        @Option(names = "--gradcam-top", paramLabel = "N",
                description = "Grad-CAM overlays for the N newly scored images most likely malignant; 0: none "
                        + "(busi.score.gradcam-top).")
        Integer gradcamTop;
        @Option(names = "--explain", paramLabel = "PATH_OR_GLOB",
                description = "Also write a Grad-CAM overlay for the images whose path (or its end after a '/') "
                        + "matches, e.g. 'malignant/*.png' (repeatable; scored before or not).")
        List<String> explain = new java.util.ArrayList<>();
        @Option(names = "--explain-all", description = "Write a Grad-CAM overlay for every image of the input.")
        boolean explainAll;

        @Override
        Map<String, String> settingOptions() {
            Map<String, String> options = new LinkedHashMap<>();
            if (tta != null) {
                options.put("busi.score.tta", tta);
            }
            if (gradcamTop != null) {
                options.put("busi.score.gradcam-top", gradcamTop.toString());
            }
            return options;
        }

        @Override
        void run(SparkSession spark, BusiConfig config) {
            ScoreJob.run(spark, config, model, input, output, explainAll ? List.of("*") : explain);
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Ingest, train and evaluate in one Spark job.",
                    "Writes <output>/dataset/, <output>/model/, <output>/history/ and <output>/evaluation/metrics.json.",
                    "With busi.store.uri set, also publishes the model and its evaluation as a new version of "
                            + "<store>/models/<name>, re-evaluates the champion (the version 'latest' names) on the same "
                            + "test split into <output>/champion-evaluation/, and promotes the new version only if it "
                            + "wins by busi.store.promotion.min-improvement."})
    static final class Run extends Stage {
        static final String DATASET = "dataset";
        static final String EVALUATION = "evaluation";

        @Option(names = "--input", paramLabel = "[NAME=]URI", description = INPUT_HELP)
        List<String> inputs = new java.util.ArrayList<>();
        @Option(names = "--dataset", paramLabel = "URI", description = "Dataset to ingest into and train on (default "
                + "<output>/dataset). Scheduled retraining keeps one, so that its test split stays frozen as images are added.")
        String dataset;
        @Option(names = "--resume", description = "Continue training from the newest complete checkpoint under --output "
                + "(ingest adds only what is new).")
        boolean resume;
        @Option(names = "--holdout-site", paramLabel = "SITE", description = "Leave-one-site-out: train without this "
                + "site and test on all of its images (busi.train.holdout-site).")
        String holdoutSite;

        @Override
        Map<String, String> settingOptions() {
            return holdoutSite == null ? Map.of() : Map.of("busi.train.holdout-site", holdoutSite);
        }

        @Override
        void run(SparkSession spark, BusiConfig config) {
            Progress progress = new Progress("run");
            Function<String, String> under = name -> Storage.child(output, name);
            String data = dataset == null ? under.apply(DATASET) : dataset;
            IngestJob.run(spark, config, IngestSources.resolve(inputs, config.ingest().sources()), data);
            TrainJob.run(spark, config, data, output, resume);
            EvaluateJob.Report evaluation = EvaluateJob.run(spark, config, output, data, null, null, under.apply(EVALUATION));
            publish(spark, config, evaluation, under.apply(EVALUATION));
            progress.done("all stages finished; outputs under " + Storage.normalize(output));
        }
    }

    @Command(name = "promote",
            description = {"Point a model store's 'latest' at a published version by hand, overriding champion/challenger "
                    + "(e.g. to roll back).",
                    "Writes <store>/models/<name>/latest and a decision under <store>/models/<name>/promotions/."})
    static final class Promote implements Callable<Integer> {
        @Mixin
        Settings settings;
        // No mixinStandardHelpOptions: its -V/--version would take the --version this command needs.
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;
        @Option(names = "--store", paramLabel = "URI", description = "Model store (default busi.store.uri).")
        String store;
        @Option(names = "--name", paramLabel = "NAME", description = "Model name (default busi.store.model-name).")
        String name;
        @Option(names = "--version", required = true, paramLabel = "VERSION",
                description = "The version to promote, e.g. v20261125T191000Z-3fa2c1.")
        String version;
        @Option(names = "--reason", paramLabel = "TEXT", defaultValue = "manual promotion",
                description = "Why, recorded with the decision (default: ${DEFAULT-VALUE}).")
        String reason;

        @Override
        public Integer call() {
            BusiConfig config = settings.load(Map.of());
            String storeUri = store != null ? store : config.store().uri();
            String modelName = name != null ? name : config.store().modelName();
            if (storeUri.isBlank()) {
                throw new IllegalArgumentException("No model store: pass --store or set busi.store.uri");
            }
            Storage storage = new Storage(SparkSessions.hadoopConfiguration(config.spark()));
            // The same checks as serving: a complete version whose graph matches its card and the classes.
            ModelStore.load(storage, Storage.child(ModelRegistry.modelUri(storeUri, modelName), version),
                    config.model().classes());
            ModelRegistry.decide(storage, storeUri, modelName, new Promotion(config.store().promotion(), "busi promote")
                    .manual(version, ModelRegistry.latestVersion(storage, storeUri, modelName).orElse(null), reason));
            return 0;
        }
    }

    @Command(name = "augment-preview", mixinStandardHelpOptions = true,
            description = {"Show what training augmentation does: a grid of training images, each as the model sees it "
                    + "unaugmented and then in epochs 1, 2, ...", "Writes <output>/augment-preview.png."})
    static final class AugmentPreview extends Stage {
        @Option(names = "--data", required = true, paramLabel = "URI", description = "Dataset written by `busi ingest`.")
        String data;
        @Option(names = "--images", defaultValue = "6", paramLabel = "N", description = "Training images to show (default 6).")
        int images;
        @Option(names = "--epochs", defaultValue = "6", paramLabel = "N", description = "Augmented epochs per image (default 6).")
        int epochs;

        @Override
        void run(SparkSession spark, BusiConfig config) {
            List<org.apache.spark.sql.Row> rows = ImageSources.ingested(spark, Storage.normalize(data), Splits.TRAIN)
                    .select(ImageTable.IMAGE_ID, ImageTable.IMAGE).orderBy(ImageTable.IMAGE_ID).limit(images).collectAsList();
            if (rows.isEmpty()) {
                throw new IllegalArgumentException("No training images in " + data);
            }
            int size = config.model().inputSize();
            byte[] png = org.busispark.augment.AugmentPreview.render(
                    rows.stream().map(r -> ImageCodec.decodePng((byte[]) r.get(1))).toList(),
                    rows.stream().map(r -> r.getString(0)).toList(),
                    new Augmenter(config.augment(), size), new Preprocessor(size, config.model().channels()),
                    config.train().seed(), epochs);
            String target = Storage.child(output, "augment-preview.png");
            new Storage(spark.sparkContext().hadoopConfiguration()).writeBytes(target, png);
            new Progress("augment-preview").stage(rows.size() + " images x " + epochs + " epochs written to " + target);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"busi-spark " + org.busispark.storage.BuildInfo.version()};
        }
    }
}
