package org.busispark.evaluate;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.busispark.config.BusiConfig;
import org.busispark.ingest.ImageSources;
import org.busispark.ingest.ImageTable;
import org.busispark.ingest.IngestSources;
import org.busispark.ingest.Splits;
import org.busispark.model.ImageInput;
import org.busispark.model.ModelCard;
import org.busispark.model.ModelStore;
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

    /** What metrics.json holds: the metrics, and what they were computed on. */
    public record Report(String model, String data, String split, String tta, long imagesSeen, long imagesUnusable,
                         @JsonUnwrapped EvaluationResult result, String evaluatedAt) {}

    public static Report run(SparkSession spark, BusiConfig config, String modelUri, String dataUri, String split,
                             String outputUri) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Storage storage = new Storage(spark.sparkContext().hadoopConfiguration());
        Progress progress = new Progress("evaluate");
        ModelStore.LoadedModel loaded = ModelStore.load(storage, modelUri, config.model().classes());
        ModelCard card = loaded.model().card();
        String data = Storage.normalize(dataUri);
        boolean ingested = ImageSources.isIngestedDataset(storage, data);
        String usedSplit = ingested ? (split == null ? Splits.TEST : split) : null;
        progress.stage("model " + loaded.dir() + " on " + data + (ingested ? " (split " + usedSplit + ")" : ""));

        JavaRDD<ImageInput> inputs = ingested
                ? ImageSources.fromIngested(ImageSources.ingested(spark, data, usedSplit))
                : ImageSources.fromFolder(spark, data, IngestSources.siteOf(data), config, true).filter(i -> !i.skipped());
        // Evaluated as busi.score.tta would score, so that the metrics describe what scoring delivers.
        Predictor.SharedModel model = Predictor.share(jsc, loaded.model().graph(), loaded::zip);
        JavaRDD<Prediction> predictions = Predictor.predict(inputs, model, card, config.score().flipAverage())
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            // Probabilities are a few floats per image: the metrics that need them all (AUC, bootstrap) run here.
            List<Prediction> labelled = predictions.filter(p -> p.error() == null && p.labelIndex() != null)
                    .map(p -> new Prediction(null, null, p.labelIndex(), p.probabilities(), null, p.origin())).collect();
            long seen = predictions.count();
            if (labelled.isEmpty()) {
                throw new IllegalArgumentException("No labelled images could be evaluated at " + data
                        + (ingested ? " (split " + usedSplit + " is empty)" : ""));
            }
            int[] truth = labelled.stream().mapToInt(Prediction::labelIndex).toArray();
            float[][] probs = labelled.stream().map(Prediction::probabilities).toArray(float[][]::new);
            EvaluationResult result = EvaluationResult.compute(truth, probs, card.classes(), BOOTSTRAP, config.train().seed());
            Report report = new Report(loaded.dir(), data, usedSplit, config.score().tta(), seen,
                    seen - labelled.size(), result, Instant.now().toString());

            PredictionTable.write(storage, PredictionTable.frame(spark, predictions, card.classes(), loaded.name(),
                    loaded.version(), true), Storage.child(outputUri, PREDICTIONS_DIR));
            writeMetricsTable(spark, storage, result, Storage.child(outputUri, METRICS_DIR));
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
                            + "report in %s", m.count(), m.accuracy(), m.averageLoss(), m.macroF1(), result.macroRocAuc(),
                    Storage.child(outputUri, REPORT_FILE)));
            return report;
        } finally {
            predictions.unpersist(false);
            model.close();
        }
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
            .add("upper", DataTypes.DoubleType, true);

    /** Long format (metric, label, value, lower, upper): easy to query and to compare across runs. */
    private static void writeMetricsTable(SparkSession spark, Storage storage, EvaluationResult r, String target) {
        List<org.apache.spark.sql.Row> rows = new ArrayList<>();
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
            rows.add(RowFactory.create(k, null, v, ci == null ? null : ci.lower(), ci == null ? null : ci.upper()));
        });
        for (Metrics.ClassMetrics c : m.perClass()) {
            rows.add(RowFactory.create("precision", c.label(), c.precision(), null, null));
            rows.add(RowFactory.create("recall", c.label(), c.recall(), null, null));
            rows.add(RowFactory.create("f1", c.label(), c.f1(), null, null));
            rows.add(RowFactory.create("support", c.label(), (double) c.support(), null, null));
            rows.add(RowFactory.create("rocAuc", c.label(), r.rocAuc().get(c.label()), null, null));
        }
        String staging = storage.stagingFor(target);
        spark.createDataFrame(rows, METRICS_SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(staging);
        storage.commitFolder(staging, target);
    }
}
