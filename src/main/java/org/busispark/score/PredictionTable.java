package org.busispark.score;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.busispark.model.ModelCard;
import org.busispark.model.Prediction;
import org.busispark.storage.Storage;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/**
 * The predictions Parquet written by score and evaluate: one row per image with the predicted label, one
 * probability column per class ({@code prob_<class>}), the true label when known, and an error when the
 * image could not be scored.
 */
public final class PredictionTable {
    public static final String SOURCE_PATH = "source_path";
    public static final String IMAGE_ID = "image_id";
    public static final String TRUE_LABEL = "true_label";
    public static final String PREDICTED_LABEL = "predicted_label";
    public static final String PROB_PREFIX = "prob_";
    public static final String MODEL = "model";
    public static final String SCORED_AT = "scored_at";
    public static final String ERROR = "error";

    private PredictionTable() {}

    public static StructType schema(List<String> classes) {
        StructType s = new StructType()
                .add(SOURCE_PATH, DataTypes.StringType, false)
                .add(IMAGE_ID, DataTypes.StringType, true)
                .add(TRUE_LABEL, DataTypes.StringType, true)
                .add(PREDICTED_LABEL, DataTypes.StringType, true);
        for (String c : classes) {
            s = s.add(PROB_PREFIX + c, DataTypes.FloatType, true);
        }
        return s.add(MODEL, DataTypes.StringType, false)
                .add(SCORED_AT, DataTypes.TimestampType, false)
                .add(ERROR, DataTypes.StringType, true);
    }

    /** Writes to a staging folder and renames it into place, so readers never see a partial table. */
    public static void write(SparkSession spark, Storage storage, JavaRDD<Prediction> predictions, ModelCard card,
                             String modelRef, String target) {
        List<String> classes = card.classes();
        Timestamp now = Timestamp.from(Instant.now());
        JavaRDD<Row> rows = predictions.map(p -> row(p, classes, modelRef, now));
        String staging = storage.stagingFor(target);
        spark.createDataFrame(rows, schema(classes)).write().mode(SaveMode.ErrorIfExists).parquet(staging);
        storage.commitFolder(staging, target);
    }

    static Row row(Prediction p, List<String> classes, String modelRef, Timestamp now) {
        Object[] v = new Object[4 + classes.size() + 3];
        v[0] = p.sourcePath();
        v[1] = p.imageId();
        v[2] = p.labelIndex() == null ? null : classes.get(p.labelIndex());
        v[3] = p.error() == null ? classes.get(p.predictedIndex()) : null;
        for (int c = 0; c < classes.size(); c++) {
            v[4 + c] = p.error() == null ? p.probabilities()[c] : null;
        }
        v[4 + classes.size()] = modelRef;
        v[5 + classes.size()] = now;
        v[6 + classes.size()] = p.error();
        return RowFactory.create(v);
    }
}
