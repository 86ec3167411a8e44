package org.busispark.storage;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.spark.sql.SparkSession;
import org.busispark.config.ConfigLoader;
import org.busispark.config.SparkSessions;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Blob tables stay in small pieces however large they grow: files are written in 16 MB row groups, and jobs'
 * sessions read partitions of at most 32 MB, so what one task holds does not grow with the dataset.
 */
@ExtendWith(StopsSpark.class)
class ParquetFilesTest {
    @TempDir
    java.nio.file.Path tmp;

    @Test
    void aLargeBlobFileIsWrittenInSmallRowGroupsAndReadInSeveralPartitions() throws Exception {
        MessageType schema = MessageTypeParser.parseMessageType("message t { required int32 id; required binary png; }");
        Path file = new Path(tmp.resolve("blobs.parquet").toUri());
        Configuration hadoop = new Configuration();
        byte[] blob = new byte[1 << 20];
        Random random = new Random(1);
        int rows = 80;
        try (ParquetWriter<Group> writer = ParquetFiles.open(hadoop, file, schema, false)) {
            SimpleGroupFactory groups = new SimpleGroupFactory(schema);
            for (int i = 0; i < rows; i++) {
                random.nextBytes(blob); // incompressible, as PNG bytes are
                writer.write(groups.newGroup().append("id", i).append("png", Binary.fromConstantByteArray(blob)));
            }
        }
        List<BlockMetaData> rowGroups;
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(file, hadoop))) {
            rowGroups = reader.getFooter().getBlocks();
        }
        assertTrue(rowGroups.size() >= 4, "80 MB in row groups of 16 MB: " + rowGroups.size());
        for (BlockMetaData g : rowGroups) {
            assertTrue(g.getCompressedSize() <= ParquetFiles.ROW_GROUP_BYTES + (2 << 20), "row group of " + g.getCompressedSize());
        }

        StopsSpark.stopAnySession();
        SparkSession spark = SparkSessions.create(ConfigLoader.load(null, Map.of("busi.spark.master", "local[1]")).spark());
        var read = spark.read().parquet(file.toString());
        assertTrue(read.javaRDD().getNumPartitions() >= 3, "partitions of at most 32 MB: " + read.javaRDD().getNumPartitions());
        assertEquals(rows, read.count());
    }

    /** Blobs are never put in a dictionary; strings still are. */
    @Test
    void blobColumnsGetNoDictionaryAndStringColumnsDo() throws Exception {
        MessageType schema = MessageTypeParser.parseMessageType(
                "message t { required binary label (STRING); required binary png; }");
        Path file = new Path(tmp.resolve("dict.parquet").toUri());
        Configuration hadoop = new Configuration();
        byte[] blob = new byte[1000];
        try (ParquetWriter<Group> writer = ParquetFiles.open(hadoop, file, schema, false)) {
            SimpleGroupFactory groups = new SimpleGroupFactory(schema);
            for (int i = 0; i < 50; i++) {
                blob[0] = (byte) (i % 3); // three distinct blobs: a dictionary would take them
                writer.write(groups.newGroup().append("label", "class" + (i % 3))
                        .append("png", Binary.fromConstantByteArray(blob.clone())));
            }
        }
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(file, hadoop))) {
            var columns = reader.getFooter().getBlocks().get(0).getColumns();
            assertTrue(columns.get(0).getEncodings().stream().anyMatch(Encoding::usesDictionary), "label: " + columns.get(0).getEncodings());
            assertTrue(columns.get(1).getEncodings().stream().noneMatch(Encoding::usesDictionary), "png: " + columns.get(1).getEncodings());
        }
    }
}
