package org.busispark.evaluate;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.ingest.ImageSources;
import org.busispark.ingest.ImageTable;
import org.busispark.ingest.IngestSources;
import org.busispark.ingest.Splits;
import org.busispark.model.ImageInput;
import org.busispark.model.ModelCard;
import org.busispark.model.ModelStore;
import org.busispark.model.Origin;
import org.busispark.model.Prediction;
import org.busispark.model.Predictor;
import org.busispark.score.PredictionTable;
import org.busispark.storage.Json;
import org.busispark.storage.Progress;
import org.busispark.storage.Storage;
import org.busispark.train.EpochRecord;
import org.busispark.train.TrainJob;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * {@code busi evaluate}: scores a labelled set (an ingested dataset's split, a class-folder tree, or a
 * manifest) with a trained model in Spark, and writes {@code metrics.json}, a long-format {@code metrics/}
 * Parquet table, per-image {@code predictions/}, PNG plots under {@code plots/} and a self-contained
 * {@code report.html}.
 */
public final class EvaluateJob {
    public static final String METRICS_FILE = "metrics.json";
    public static final String METRICS_DIR = "metrics";
    public static final String PREDICTIONS_DIR = "predictions";
    public static final String PLOTS_DIR = "plots";
    public static final String REPORT_FILE = "report.html";
    static final int BOOTSTRAP = 1000;

    private EvaluateJob() {}

    /**
     * What metrics.json holds: the metrics, overall and per site, and what they were computed on.
     *
     * @param split     the split of an ingested dataset, or null (a folder, or every split of one site)
     * @param site      the one site evaluated (an ingested dataset's site, or the site a folder's images are tagged
     *                  with), or null for every site of the dataset
     * @param selection which images, in words (e.g. "all images of site X, held out in training")
     * @param perSite   site name ("" for images without one) → the same metrics on that site's images
     */
    public record Report(String model, String data, String split, String site, String selection, String tta,
                         long imagesSeen, long imagesUnusable, @JsonUnwrapped EvaluationResult result,
                         Map<String, SiteResult> perSite, String evaluatedAt) {}

    /** One site's share of an evaluation. */
    public record SiteResult(long imagesSeen, long imagesUnusable, @JsonUnwrapped EvaluationResult result) {}

    /**
     * @param split a split of an ingested dataset; null: its test split or, when the model's card says a site was
     *              held out of training and the dataset has that site, every image of that site
     * @param site  for a class-folder tree or manifest, the site its images are tagged with (null: the folder's
     *              name); for an ingested dataset, the only site to evaluate (null: every site)
     */
    public static Report run(SparkSession spark, BusiConfig config, String modelUri, String dataUri, String split,
                             String site, String outputUri) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Storage storage = new Storage(spark.sparkContext().hadoopConfiguration());
        Progress progress = new Progress("evaluate");
        ModelStore.LoadedModel loaded = ModelStore.load(storage, modelUri, config.model().classes());
        ModelCard card = loaded.model().card();
        String data = Storage.normalize(dataUri);
        Selection sel = ImageSources.isIngestedDataset(storage, data) ? select(spark, data, split, site, card)
                : new Selection(null, site == null ? IngestSources.siteOf(data)
                        : ConfigLoader.checkSiteName("--site", site), null, false);
        progress.stage("model " + loaded.dir() + " on " + data + " (" + sel.describe() + ")");

        JavaRDD<ImageInput> inputs = sel.rows() != null ? ImageSources.fromIngested(sel.rows())
                : ImageSources.fromFolder(spark, data, sel.site(), config, true).filter(i -> !i.skipped());
        // Evaluated as busi.score.tta would score, so that the metrics describe what scoring delivers.
        Predictor.SharedModel model = Predictor.share(jsc, loaded.model().graph(), loaded::zip);
        JavaRDD<Prediction> predictions = Predictor.predict(inputs, model, card, config.score().flipAverage())
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            // Probabilities are a few floats per image: the metrics that need them all (AUC, bootstrap) run here,
            // overall and per site.
            List<Prediction> labelled = predictions.filter(p -> p.error() == null && p.labelIndex() != null)
                    .map(p -> new Prediction(null, null, p.labelIndex(), p.probabilities(), null,
                            Origin.ofSite(p.origin().site()))).collect();
            Map<String, Long> seenPerSite = predictions.map(p -> siteKey(p.origin())).countByValue();
            long seen = seenPerSite.values().stream().mapToLong(Long::longValue).sum();
            if (labelled.isEmpty()) {
                throw new IllegalArgumentException("No labelled images could be evaluated at " + data
                        + " (" + sel.describe() + ")");
            }
            long seed = config.train().seed();
            EvaluationResult result = compute(labelled, card.classes(), seed);
            Map<String, SiteResult> perSite = new TreeMap<>();
            labelled.stream().collect(Collectors.groupingBy(p -> siteKey(p.origin()))).forEach((s, ps) ->
                    perSite.put(s, new SiteResult(seenPerSite.get(s), seenPerSite.get(s) - ps.size(),
                            compute(ps, card.classes(), seed))));
            Report report = new Report(loaded.dir(), data, sel.split(), sel.site(), sel.describe(),
                    config.score().tta(), seen, seen - labelled.size(), result, perSite, Instant.now().toString());

            PredictionTable.write(storage, PredictionTable.frame(spark, predictions, card.classes(), loaded.name(),
                    loaded.version(), true), Storage.child(outputUri, PREDICTIONS_DIR));
            writeMetricsTable(spark, storage, report, Storage.child(outputUri, METRICS_DIR));
            storage.writeText(Storage.child(outputUri, METRICS_FILE), Json.write(report));
            Map<String, byte[]> plots = plots(storage, loaded.dir(), result, card.classes());
            for (Map.Entry<String, byte[]> p : plots.entrySet()) {
                storage.writeBytes(Storage.child(Storage.child(outputUri, PLOTS_DIR), fileName(p.getKey())), p.getValue());
            }
            JsonNode ingestReport = readJsonIfPresent(storage,
                    Storage.child(card.trainingData().dataset(), ImageTable.REPORT_FILE));
            storage.writeText(Storage.child(outputUri, REPORT_FILE),
                    HtmlReport.render(report, plots, Json.write(card), ingestReport));
            Metrics m = result.metrics();
            progress.done(String.format("%d images: accuracy %.3f, average loss %.4f, macro-F1 %.3f, macro AUC %.3f; "
                            + "sites %s; report in %s", m.count(), m.accuracy(), m.averageLoss(), m.macroF1(),
                    result.macroRocAuc(), perSite.keySet(), Storage.child(outputUri, REPORT_FILE)));
            return report;
        } finally {
            predictions.unpersist(false);
            model.close();
        }
    }

    /**
     * Which images of an ingested dataset: {@code rows}, with the split and site they were chosen by (either may
     * be null); null rows for a folder, whose images are tagged with {@code site}.
     */
    private record Selection(Dataset<Row> rows, String site, String split, boolean heldOut) {
        String describe() {
            if (rows == null) {
                return "all images, as site " + site;
            }
            if (split == null) {
                return "all images of site " + site + (heldOut ? ", held out in training" : "");
            }
            return "split " + split + (site == null ? "" : " of site " + site);
        }
    }

    /** An explicit split or site wins; otherwise a leave-one-site-out model is tested on its held-out site. */
    private static Selection select(SparkSession spark, String data, String split, String site, ModelCard card) {
        Dataset<Row> all = ImageSources.ingested(spark, data, null);
        if (site != null) {
            ImageSources.requireSite(spark, data, site);
        }
        String heldOut = split == null && site == null ? heldOutSite(card) : null;
        // A held-out site the dataset lacks (another archive) leaves the usual test split.
        String chosenSite = site != null ? site
                : heldOut != null && ImageSources.sites(all).contains(heldOut) ? heldOut : null;
        String chosenSplit = split != null ? split : chosenSite != null ? null : Splits.TEST;
        Dataset<Row> rows = all;
        if (chosenSplit != null) {
            rows = rows.where(functions.col(ImageTable.SPLIT).equalTo(chosenSplit));
        }
        if (chosenSite != null) {
            rows = rows.where(functions.col(ImageTable.SITE).equalTo(chosenSite));
        }
        return new Selection(rows, chosenSite, chosenSplit, site == null && chosenSite != null);
    }

    /**
     * The site the model was trained without, as its card records it; not busi.train.holdout-site: a model
     * that saw a site's training images must not be tested on all of them.
     */
    private static String heldOutSite(ModelCard card) {
        BusiConfig.Train t = card.training();
        return t == null || t.holdoutSite() == null ? null : t.heldOutSite();
    }

    private static EvaluationResult compute(List<Prediction> labelled, List<String> classes, long seed) {
        int[] truth = labelled.stream().mapToInt(Prediction::labelIndex).toArray();
        float[][] probs = labelled.stream().map(Prediction::probabilities).toArray(float[][]::new);
        return EvaluationResult.compute(truth, probs, classes, BOOTSTRAP, seed);
    }

    private static String siteKey(Origin origin) {
        return origin.site() == null ? "" : origin.site();
    }

    /** Plots by title; training curves are included when the model sits in a training output with its history. */
    private static Map<String, byte[]> plots(Storage storage, String modelDir, EvaluationResult r, List<String> classes) {
        Map<String, byte[]> plots = new LinkedHashMap<>();
        plots.put("confusion matrix", Plots.confusionMatrix(r.metrics().confusionMatrix(), classes));
        plots.put("roc curves", Plots.roc(r.rocCurves(), r.rocAuc()));
        plots.put("reliability", Plots.reliability(r.reliability(), r.expectedCalibrationError()));
        List<EpochRecord> epochs = TrainJob.readHistory(storage, modelDir.substring(0, modelDir.lastIndexOf('/')));
        if (!epochs.isEmpty()) {
            plots.put("training loss", Plots.trainingLoss(epochs));
            plots.put("training scores", Plots.trainingScores(epochs));
        }
        return plots;
    }

    private static String fileName(String title) {
        return title.replace(' ', '-') + ".png";
    }

    private static JsonNode readJsonIfPresent(Storage storage, String uri) {
        return storage.exists(uri) ? Json.tree(storage.readText(uri)) : null;
    }

    static final StructType METRICS_SCHEMA = new StructType()
            .add("metric", DataTypes.StringType, false)
            .add("label", DataTypes.StringType, true)
            .add("value", DataTypes.DoubleType, true)
            .add("lower", DataTypes.DoubleType, true)
            .add("upper", DataTypes.DoubleType, true)
            .add("site", DataTypes.StringType, true);

    /**
     * Long format (metric, label, value, lower, upper, site): easy to query and to compare across runs. Overall
     * rows have a null site, per-site rows the same metrics with their site; undefined values are null.
     */
    private static void writeMetricsTable(SparkSession spark, Storage storage, Report report, String target) {
        List<Row> rows = new ArrayList<>();
        addMetricRows(rows, null, report.result());
        report.perSite().forEach((site, r) -> addMetricRows(rows, site, r.result()));
        String staging = storage.stagingFor(target);
        spark.createDataFrame(rows, METRICS_SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(staging);
        storage.commitFolder(staging, target);
    }

    private static void addMetricRows(List<Row> rows, String site, EvaluationResult r) {
        Metrics m = r.metrics();
        Map<String, Double> overall = new LinkedHashMap<>();
        overall.put("accuracy", m.accuracy());
        overall.put("macroF1", m.macroF1());
        overall.put("macroRocAuc", r.macroRocAuc());
        overall.put("averageLoss", m.averageLoss());
        overall.put("expectedCalibrationError", r.expectedCalibrationError());
        if (r.malignantVsRest() != null) {
            overall.put("malignantSensitivity", r.malignantVsRest().sensitivity());
            overall.put("malignantSpecificity", r.malignantVsRest().specificity());
            overall.put("malignantVsRestRocAuc", r.malignantVsRest().rocAuc());
        }
        overall.forEach((k, v) -> {
            EvaluationResult.Interval ci = r.confidenceIntervals().get(k);
            rows.add(RowFactory.create(k, null, orNull(v), ci == null ? null : orNull(ci.lower()),
                    ci == null ? null : orNull(ci.upper()), site));
        });
        for (Metrics.ClassMetrics c : m.perClass()) {
            rows.add(RowFactory.create("precision", c.label(), orNull(c.precision()), null, null, site));
            rows.add(RowFactory.create("recall", c.label(), orNull(c.recall()), null, null, site));
            rows.add(RowFactory.create("f1", c.label(), orNull(c.f1()), null, null, site));
            rows.add(RowFactory.create("support", c.label(), (double) c.support(), null, null, site));
            rows.add(RowFactory.create("rocAuc", c.label(), orNull(r.rocAuc().get(c.label())), null, null, site));
        }
    }

    /** SQL aggregates treat NaN as the largest value; null is what they skip. */
    private static Double orNull(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
