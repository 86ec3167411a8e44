package org.busispark.score;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.busispark.model.Prediction;
import org.busispark.storage.ParquetFiles;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/**
 * Writes score's prediction rows ({@link PredictionTable}'s columns, without the true label, and without the
 * model version, which the partition folder {@code model_version=<v>} holds) straight to one Parquet file from a
 * task, as the rows are made (see {@link ParquetFiles} for why not through Spark SQL). The file is created on the
 * first row, so a task with nothing to write leaves none.
 */
final class PredictionWriter implements Closeable {
    private final Configuration hadoop;
    private final Path file;
    private final List<String> classes;
    private final String modelName;
    private final long scoredAtMicros;
    private final MessageType schema;
    private final SimpleGroupFactory groups;
    private ParquetWriter<Group> writer;
    private long rows;

    PredictionWriter(Configuration hadoop, Path file, List<String> classes, String modelName, Instant scoredAt) {
        this.hadoop = hadoop;
        this.file = file;
        this.classes = List.copyOf(classes);
        this.modelName = modelName;
        this.scoredAtMicros = ParquetFiles.micros(scoredAt);
        this.schema = schema(classes);
        this.groups = new SimpleGroupFactory(schema);
    }

    /** The Parquet schema Spark reads as {@link PredictionTable#schema}{@code (classes, false)} less the version. */
    static MessageType schema(List<String> classes) {
        var b = Types.buildMessage()
                .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(PredictionTable.SOURCE_PATH)
                .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(PredictionTable.IMAGE_ID)
                .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(PredictionTable.SITE)
                .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(PredictionTable.PATIENT_ID)
                .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(PredictionTable.SCANNER)
                .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(PredictionTable.PREDICTED_LABEL);
        for (String c : classes) {
            b = b.optional(PrimitiveTypeName.FLOAT).named(PredictionTable.PROB_PREFIX + c);
        }
        return b.required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(PredictionTable.MODEL_NAME)
                .required(PrimitiveTypeName.INT64)
                .as(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MICROS))
                .named(PredictionTable.SCORED_AT)
                .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(PredictionTable.ERROR)
                .named("spark_schema");
    }

    void write(Prediction p) {
        Group g = groups.newGroup().append(PredictionTable.SOURCE_PATH, p.sourcePath());
        appendIfKnown(g, PredictionTable.IMAGE_ID, p.imageId());
        appendIfKnown(g, PredictionTable.SITE, p.origin().site());
        appendIfKnown(g, PredictionTable.PATIENT_ID, p.origin().patientId());
        appendIfKnown(g, PredictionTable.SCANNER, p.origin().scanner());
        if (p.error() == null) {
            g.append(PredictionTable.PREDICTED_LABEL, classes.get(p.predictedIndex()));
            for (int c = 0; c < classes.size(); c++) {
                g.append(PredictionTable.PROB_PREFIX + classes.get(c), p.probabilities()[c]);
            }
        }
        g.append(PredictionTable.MODEL_NAME, modelName)
                .append(PredictionTable.SCORED_AT, scoredAtMicros);
        if (p.error() != null) {
            g.append(PredictionTable.ERROR, p.error());
        }
        try {
            if (writer == null) {
                writer = ParquetFiles.open(hadoop, file, schema, true);
            }
            writer.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write predictions to " + file, e);
        }
        rows++;
    }

    private static void appendIfKnown(Group g, String column, String value) {
        if (value != null) {
            g.append(column, value);
        }
    }

    /** The file written, or null when no row was. */
    String file() {
        return rows == 0 ? null : file.toString();
    }

    @Override
    public void close() {
        if (writer != null) {
            try {
                writer.close();
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot finish " + file, e);
            }
        }
    }
}
