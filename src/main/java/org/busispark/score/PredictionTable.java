package org.busispark.score;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.busispark.model.Prediction;
import org.busispark.storage.Storage;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The predictions Parquet written by score and evaluate: one row per image with its site, patient and scanner
 * where known, the predicted label, one
 * probability column per class ({@code prob_<class>}), the model's name and version, and an error when the
 * image could not be scored. Evaluation adds the true label.
 */
public final class PredictionTable {
    public static final String SOURCE_PATH = "source_path";
    public static final String IMAGE_ID = "image_id";
    public static final String TRUE_LABEL = "true_label";
    public static final String SITE = "site";
    public static final String PATIENT_ID = "patient_id";
    public static final String SCANNER = "scanner";
    public static final String PREDICTED_LABEL = "predicted_label";
    public static final String PROB_PREFIX = "prob_";
    public static final String MODEL_NAME = "model_name";
    public static final String MODEL_VERSION = "model_version";
    public static final String SCORED_AT = "scored_at";
    public static final String ERROR = "error";

    private PredictionTable() {}

    public static StructType schema(List<String> classes, boolean withTruth) {
        StructType s = new StructType()
                .add(SOURCE_PATH, DataTypes.StringType, false)
                .add(IMAGE_ID, DataTypes.StringType, true)
                .add(SITE, DataTypes.StringType, true)
                .add(PATIENT_ID, DataTypes.StringType, true)
                .add(SCANNER, DataTypes.StringType, true);
        if (withTruth) {
            s = s.add(TRUE_LABEL, DataTypes.StringType, true);
        }
        s = s.add(PREDICTED_LABEL, DataTypes.StringType, true);
        for (String c : classes) {
            s = s.add(PROB_PREFIX + c, DataTypes.FloatType, true);
        }
        return s.add(MODEL_NAME, DataTypes.StringType, false)
                .add(MODEL_VERSION, DataTypes.StringType, false)
                .add(SCORED_AT, DataTypes.TimestampType, false)
                .add(ERROR, DataTypes.StringType, true);
    }

    public static Dataset<Row> frame(SparkSession spark, JavaRDD<Prediction> predictions, List<String> classes,
                                     String modelName, String modelVersion, boolean withTruth) {
        Timestamp now = Timestamp.from(Instant.now());
        JavaRDD<Row> rows = predictions.map(p -> row(p, classes, modelName, modelVersion, now, withTruth));
        return spark.createDataFrame(rows, schema(classes, withTruth));
    }

    /** Writes to a staging folder and renames it into place, so readers never see a partial table. */
    public static void write(Storage storage, Dataset<Row> rows, String target) {
        String staging = storage.stagingFor(target);
        rows.write().mode(SaveMode.ErrorIfExists).parquet(staging);
        storage.commitFolder(staging, target);
    }

    static Row row(Prediction p, List<String> classes, String modelName, String modelVersion, Timestamp now,
                   boolean withTruth) {
        boolean ok = p.error() == null;
        List<Object> v = new ArrayList<>(classes.size() + 8);
        v.add(p.sourcePath());
        v.add(p.imageId());
        v.add(p.origin().site());
        v.add(p.origin().patientId());
        v.add(p.origin().scanner());
        if (withTruth) {
            v.add(p.labelIndex() == null ? null : classes.get(p.labelIndex()));
        }
        v.add(ok ? classes.get(p.predictedIndex()) : null);
        for (int c = 0; c < classes.size(); c++) {
            v.add(ok ? p.probabilities()[c] : null);
        }
        v.add(modelName);
        v.add(modelVersion);
        v.add(now);
        v.add(p.error());
        return RowFactory.create(v.toArray());
    }
}
