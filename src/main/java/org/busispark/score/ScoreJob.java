package org.busispark.score;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.busispark.config.BusiConfig;
import org.busispark.ingest.ImageSources;
import org.busispark.model.ImageInput;
import org.busispark.model.ModelStore;
import org.busispark.model.Prediction;
import org.busispark.model.Predictor;
import org.busispark.storage.Json;
import org.busispark.storage.Progress;
import org.busispark.storage.Storage;

/**
 * {@code busi score}: predicts every image under the input (any folder layout, or an ingested dataset) and
 * writes {@code <output>/predictions/} plus {@code <output>/score-report.json}. Unreadable images get an error
 * row; counts reconcile: {@code seen = scored + errors + skipped}.
 */
public final class ScoreJob {
    public static final String PREDICTIONS_DIR = "predictions";
    public static final String REPORT_FILE = "score-report.json";

    private ScoreJob() {}

    public record Report(String model, String input, long seen, long scored, long errors, long skipped) {}

    public static Report run(SparkSession spark, BusiConfig config, String modelUri, String inputUri, String outputUri) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Storage storage = new Storage(spark.sparkContext().hadoopConfiguration());
        Progress progress = new Progress("score");
        ModelStore.LoadedModel loaded = ModelStore.load(storage, modelUri, null);
        String input = Storage.normalize(inputUri);
        progress.stage("model " + loaded.dir() + " on " + input);
        JavaRDD<ImageInput> inputs = (ImageSources.isIngestedDataset(storage, input)
                ? ImageSources.fromIngested(ImageSources.ingested(spark, input, null))
                : ImageSources.fromFolder(spark, input, config, false))
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            long seen = inputs.count();
            long skipped = inputs.filter(ImageInput::skipped).count();
            JavaRDD<Prediction> predictions = Predictor.predict(jsc, inputs, loaded.zip(), loaded.model().card())
                    .persist(StorageLevel.MEMORY_AND_DISK_SER());
            String target = Storage.child(outputUri, PREDICTIONS_DIR);
            PredictionTable.write(spark, storage, predictions, loaded.model().card(), loaded.dir(), target);
            long errors = predictions.filter(p -> p.error() != null).count();
            long scored = predictions.count() - errors;
            predictions.unpersist(false);
            Report report = new Report(loaded.dir(), input, seen, scored, errors, skipped);
            storage.writeText(Storage.child(outputUri, REPORT_FILE), Json.write(report));
            progress.done(String.format("seen %d files: %d scored, %d errors, %d skipped; predictions in %s",
                    seen, scored, errors, skipped, target));
            return report;
        } finally {
            inputs.unpersist(false);
        }
    }
}
