package org.busispark.storage;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.spark.TaskContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Locale;

/**
 * Parquet files written directly with parquet-hadoop, by the driver or by a task, for tables whose rows are
 * made in the same pass that computes them. A Spark SQL write plans a query and generates code on every run,
 * which cost more than a second of every ingest and scoring run here. Task-written files are published by the
 * driver: {@link Storage#commitFolder(String, String, java.util.Collection)} keeps the files of the attempts
 * that succeeded.
 */
public final class ParquetFiles {
    /**
     * Row groups of at most 16 MB: a row group is what a reader holds at once and the smallest piece Spark can
     * split a file into, so with PNG blobs in every row, Parquet's default of 128 MB made the training job's
     * partitions (and what a task holds while caching one) grow with the dataset's files.
     */
    public static final int ROW_GROUP_BYTES = 16 << 20;

    private ParquetFiles() {}

    /**
     * A writer for a new file; {@code compressed} false for columns that are compressed already (PNG bytes).
     * Raw binary columns (no string annotation) hold blobs and get no dictionary: Parquet would hash every blob
     * in full until the dictionary overflows, for nothing.
     */
    public static ParquetWriter<Group> open(Configuration hadoop, Path file, MessageType schema, boolean compressed) {
        try {
            ExampleParquetWriter.Builder builder = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(file, hadoop))
                    .withType(schema)
                    .withConf(hadoop)
                    .withRowGroupSize(ROW_GROUP_BYTES)
                    // Parquet measures a row group only after 100 rows by default: 13 MB of BUSI PNGs, 100 MB of
                    // larger images. Checked from the first row, blob row groups close near their size.
                    .withMinRowCountForPageSizeCheck(1)
                    .withCompressionCodec(compressed ? CompressionCodecName.SNAPPY : CompressionCodecName.UNCOMPRESSED);
            for (ColumnDescriptor c : schema.getColumns()) {
                PrimitiveType type = c.getPrimitiveType();
                if (type.getPrimitiveTypeName() == PrimitiveType.PrimitiveTypeName.BINARY
                        && type.getLogicalTypeAnnotation() == null) {
                    builder = builder.withDictionaryEncoding(String.join(".", c.getPath()), false);
                }
            }
            return builder.build();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + file, e);
        }
    }

    /** This task attempt's own file name: attempts of one partition never write the same file. */
    public static String taskFileName() {
        TaskContext task = TaskContext.get();
        return String.format(Locale.ROOT, "part-%05d-%d.parquet", task.partitionId(), task.attemptNumber());
    }

    /** An instant as Parquet's TIMESTAMP(MICROS, UTC), which Spark reads as a timestamp. */
    public static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
    }
}
