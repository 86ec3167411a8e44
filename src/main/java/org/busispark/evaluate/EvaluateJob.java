package org.busispark.evaluate;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.busispark.config.BusiConfig;
import org.busispark.ingest.ImageSources;
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

import java.time.Instant;

/**
 * {@code busi evaluate}: scores a labelled set (an ingested dataset's test split, or a class-folder tree) with
 * a trained model, and writes {@code <output>/metrics.json} and per-image predictions under
 * {@code <output>/predictions/}.
 */
public final class EvaluateJob {
    public static final String METRICS_FILE = "metrics.json";
    public static final String PREDICTIONS_DIR = "predictions";

    private EvaluateJob() {}

    /** What metrics.json holds: the metrics, and what they were computed on. */
    public record Report(String model, String data, String split, long imagesSeen, long imagesUnusable,
                         Metrics metrics, String evaluatedAt) {}

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
        progress.stage("model " + loaded.dir() + " on " + data + (ingested ? " (split " + usedSplit + ")" : " (class folders)"));

        JavaRDD<ImageInput> inputs = ingested
                ? ImageSources.fromIngested(ImageSources.ingested(spark, data, usedSplit))
                : ImageSources.fromFolder(spark, data, config, true).filter(i -> !i.skipped());
        JavaRDD<Prediction> predictions = Predictor.predict(jsc, inputs, loaded.zip(), card)
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            MetricsAccumulator acc = predictions.treeAggregate(new MetricsAccumulator(card.classes().size()),
                    MetricsAccumulator::add, MetricsAccumulator::merge);
            Metrics metrics = Metrics.from(acc, card.classes());
            long seen = predictions.count();
            if (metrics.count() == 0) {
                throw new IllegalArgumentException("No labelled images could be evaluated at " + data
                        + (ingested ? " (split " + usedSplit + " is empty)" : ""));
            }
            PredictionTable.write(spark, storage, predictions, card, loaded.dir(),
                    Storage.child(outputUri, PREDICTIONS_DIR));
            Report report = new Report(loaded.dir(), data, usedSplit, seen, seen - metrics.count(), metrics,
                    Instant.now().toString());
            storage.writeText(Storage.child(outputUri, METRICS_FILE), Json.write(report));
            progress.done(String.format("%d images: accuracy %.3f, average loss %.4f, macro-F1 %.3f; metrics in %s",
                    metrics.count(), metrics.accuracy(), metrics.averageLoss(), metrics.macroF1(),
                    Storage.child(outputUri, METRICS_FILE)));
            return report;
        } finally {
            predictions.unpersist(false);
        }
    }
}
