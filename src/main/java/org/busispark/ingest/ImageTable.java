package org.busispark.ingest;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.sql.Timestamp;
import java.util.List;

/**
 * Column names and schemas of the ingested dataset (the output contract of {@code busi ingest}, read back by
 * train, evaluate and score).
 */
public final class ImageTable {
    public static final String IMAGES_DIR = "images";
    public static final String QUARANTINE_DIR = "quarantine";
    public static final String REPORT_FILE = "ingest-report.json";

    public static final String IMAGE_ID = "image_id";
    public static final String SOURCE_PATH = "source_path";
    public static final String LABEL = "label";
    public static final String LABEL_INDEX = "label_index";
    public static final String SPLIT = "split";
    public static final String DUP_GROUP = "dup_group";
    public static final String PATIENT_ID = "patient_id";
    public static final String WIDTH = "width";
    public static final String HEIGHT = "height";
    public static final String CHANNELS = "channels";
    public static final String FORMAT = "format";
    public static final String IMAGE = "image";
    public static final String MASK = "mask";
    public static final String PHASH = "phash";
    public static final String INGESTED_AT = "ingested_at";
    /** Partition folder of one ingest run ({@code ingest_run=<id>}): each run is committed by one rename. */
    public static final String INGEST_RUN = "ingest_run";

    public static final String REASON = "reason";
    public static final String DETAIL = "detail";
    public static final String SIZE = "size";

    public static final StructType IMAGES = new StructType()
            .add(IMAGE_ID, DataTypes.StringType, false)
            .add(SOURCE_PATH, DataTypes.StringType, false)
            .add(LABEL, DataTypes.StringType, true)
            .add(LABEL_INDEX, DataTypes.IntegerType, true)
            .add(SPLIT, DataTypes.StringType, false)
            .add(DUP_GROUP, DataTypes.StringType, false)
            .add(PATIENT_ID, DataTypes.StringType, true)
            .add(WIDTH, DataTypes.IntegerType, false)
            .add(HEIGHT, DataTypes.IntegerType, false)
            .add(CHANNELS, DataTypes.IntegerType, false)
            .add(FORMAT, DataTypes.StringType, false)
            .add(IMAGE, DataTypes.BinaryType, false)
            .add(MASK, DataTypes.BinaryType, true)
            .add(PHASH, DataTypes.LongType, false)
            .add(INGESTED_AT, DataTypes.TimestampType, false);

    private ImageTable() {}

    static Row imageRow(IngestRules.Outcome o, DatasetPlanner.Assignment a, List<String> classes, Timestamp now) {
        IngestRules.Shape img = o.shape();
        Integer labelIndex = o.label() == null ? null : classes.indexOf(o.label());
        return RowFactory.create(o.imageId(), o.sourcePath(), o.label(), labelIndex, a.split(), a.dupGroup(),
                o.patientId(), img.width(), img.height(), img.channels(), img.format(), o.png(), o.maskPng(), o.phash(),
                now);
    }
}
