package org.busispark.ingest;

import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Types;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.busispark.model.Origin;
import org.busispark.storage.HadoopConf;
import org.busispark.storage.ParquetFiles;
import org.busispark.storage.Storage;

import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT32;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;

/**
 * Column names and schemas of the ingested dataset (the output contract of {@code busi ingest}, read back by
 * train, evaluate and score).
 */
public final class ImageTable {
    private static final LogicalTypeAnnotation STRING = LogicalTypeAnnotation.stringType();

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
    /** The archive (hospital, collection) an image came from: the ingest source's name. */
    public static final String SITE = "site";
    public static final String SCANNER = "scanner";
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

    /** The Parquet schema of {@code images/}, as Spark reads it; {@code split} is the partition folder. */
    /** What one ingest run's image files hold at most, roughly: Spark's own default split size. */
    static final long FILE_BYTES = 128L << 20;

    static final MessageType IMAGES = Types.buildMessage()
            .required(BINARY).as(STRING).named(IMAGE_ID)
            .required(BINARY).as(STRING).named(SOURCE_PATH)
            .optional(BINARY).as(STRING).named(LABEL)
            .optional(INT32).named(LABEL_INDEX)
            .required(BINARY).as(STRING).named(DUP_GROUP)
            .optional(BINARY).as(STRING).named(PATIENT_ID)
            .optional(BINARY).as(STRING).named(SITE)
            .optional(BINARY).as(STRING).named(SCANNER)
            .required(INT32).named(WIDTH)
            .required(INT32).named(HEIGHT)
            .required(INT32).named(CHANNELS)
            .required(BINARY).as(STRING).named(FORMAT)
            .required(BINARY).named(IMAGE)
            .optional(BINARY).named(MASK)
            .required(INT64).named(PHASH)
            .required(INT64).as(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MICROS))
            .named(INGESTED_AT)
            .named("spark_schema");

    private ImageTable() {}

    /**
     * Writes a task's accepted images to one file per split under a staging folder ({@code split=<s>/}), as
     * they come; returns the files written. PNG bytes are stored as they are, without a second compression.
     */
    record WriteTask(HadoopConf conf, String staging, List<String> classes, long ingestedAtMicros,
                     Broadcast<Map<String, DatasetPlanner.Assignment>> plan)
            implements FlatMapFunction<Iterator<IngestRules.Outcome>, String> {
        @Override
        public Iterator<String> call(Iterator<IngestRules.Outcome> outcomes) throws IOException {
            Map<String, ParquetWriter<Group>> writers = new TreeMap<>();
            Map<String, String> files = new TreeMap<>();
            SimpleGroupFactory groups = new SimpleGroupFactory(IMAGES);
            try {
                while (outcomes.hasNext()) {
                    IngestRules.Outcome o = outcomes.next();
                    DatasetPlanner.Assignment a = plan.value().get(o.sourcePath());
                    ParquetWriter<Group> writer = writers.computeIfAbsent(a.split(), split -> {
                        Path file = new Path(Storage.child(staging, SPLIT + "=" + split), ParquetFiles.taskFileName());
                        files.put(split, file.toString());
                        return ParquetFiles.open(conf.value(), file, IMAGES, false);
                    });
                    writer.write(row(groups, o, a));
                }
            } finally {
                for (ParquetWriter<Group> w : writers.values()) {
                    w.close();
                }
            }
            return files.values().iterator();
        }

        private Group row(SimpleGroupFactory groups, IngestRules.Outcome o, DatasetPlanner.Assignment a) {
            IngestRules.Shape img = o.shape();
            Group g = groups.newGroup()
                    .append(IMAGE_ID, o.imageId())
                    .append(SOURCE_PATH, o.sourcePath())
                    .append(DUP_GROUP, a.dupGroup())
                    .append(WIDTH, img.width())
                    .append(HEIGHT, img.height())
                    .append(CHANNELS, img.channels())
                    .append(FORMAT, img.format())
                    .append(IMAGE, Binary.fromConstantByteArray(o.png()))
                    .append(PHASH, o.phash())
                    .append(INGESTED_AT, ingestedAtMicros);
            if (o.label() != null) {
                g.append(LABEL, o.label()).append(LABEL_INDEX, classes.indexOf(o.label()));
            }
            Origin origin = o.origin();
            if (origin.patientId() != null) {
                g.append(PATIENT_ID, origin.patientId());
            }
            if (origin.site() != null) {
                g.append(SITE, origin.site());
            }
            if (origin.scanner() != null) {
                g.append(SCANNER, origin.scanner());
            }
            if (o.maskPng() != null) {
                g.append(MASK, Binary.fromConstantByteArray(o.maskPng()));
            }
            return g;
        }
    }
}
