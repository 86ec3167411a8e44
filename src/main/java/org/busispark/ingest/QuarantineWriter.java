package org.busispark.ingest;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.busispark.storage.ParquetFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writes one run's quarantine table (source_path, label, reason, detail, size) as one Parquet file from the driver.
 * The rows are a few strings per rejected file, already on the driver for the report, and a Spark write job
 * for them cost more than a second of every ingest, most often for an empty table.
 */
final class QuarantineWriter {
    static final String FILE = "part-00000.parquet";
    private static final MessageType SCHEMA = Types.buildMessage()
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(ImageTable.SOURCE_PATH)
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(ImageTable.LABEL)
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(ImageTable.REASON)
            .optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(ImageTable.DETAIL)
            .optional(PrimitiveTypeName.INT64).named(ImageTable.SIZE)
            .named("spark_schema");

    private QuarantineWriter() {}

    /** Writes {@code folder}/part-00000.parquet; the caller publishes the folder. */
    static void write(Configuration hadoop, String folder, List<IngestRules.Outcome> quarantined) {
        SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
        try (ParquetWriter<Group> writer = ParquetFiles.open(hadoop, new Path(folder, FILE), SCHEMA, true)) {
            for (IngestRules.Outcome o : quarantined) {
                Group g = groups.newGroup()
                        .append(ImageTable.SOURCE_PATH, o.sourcePath())
                        .append(ImageTable.REASON, o.reason())
                        .append(ImageTable.SIZE, o.size());
                if (o.label() != null) {
                    g.append(ImageTable.LABEL, o.label());
                }
                if (o.detail() != null) {
                    g.append(ImageTable.DETAIL, o.detail());
                }
                writer.write(g);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the quarantine table under " + folder, e);
        }
    }
}
