package org.busispark.storage;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.busispark.storage.RealStorageFixture.*;
import static org.busispark.storage.StorageContract.names;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code busi ingest} and {@link Storage} against a real HDFS: Hadoop's MiniDFSCluster (a NameNode and one
 * DataNode in this JVM, on free loopback ports), reached through hdfs:// URIs like any cluster.
 */
class HdfsIngestTest {
    /**
     * The HDFS client retries completing a file after 400 ms, then 800 ms ..., until the DataNode's block report
     * has reached the NameNode; 20 ms keeps the many small files of this test from waiting seconds in all.
     */
    private static final String CLOSE_RETRY_DELAY = "dfs.client.block.write.locateFollowingBlock.initial.delay.ms";
    @TempDir
    static Path base;
    private static MiniDFSCluster cluster;
    private static Configuration conf;
    private static FileSystem fs;
    private static String root;
    private static List<SampleFile> uploaded;
    private static CliResult ingest;
    private static SparkSession reader;

    @BeforeAll
    static void startHdfsAndIngest() throws Exception {
        Configuration c = new Configuration();
        c.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("minidfs").toString());
        c.setInt("dfs.replication", 1);
        c.setInt(CLOSE_RETRY_DELAY, 20);
        cluster = new MiniDFSCluster.Builder(c).numDataNodes(1).build();
        cluster.waitActive();
        conf = cluster.getConfiguration(0);
        fs = cluster.getFileSystem();
        root = "hdfs://localhost:" + cluster.getNameNodePort();

        uploaded = sampleSubset();
        upload(fs, root + "/busi", uploaded);

        stopAnySparkSession();
        ingest = cli("ingest", "--conf", "conf/local.conf",
                "-Dbusi.spark.properties.\"spark.hadoop." + CLOSE_RETRY_DELAY + "\"=20",
                "--input", root + "/busi", "--output", root + "/dataset");
    }

    @AfterAll
    static void stopAll() throws Exception {
        if (reader != null) {
            reader.stop();
        }
        if (fs != null) {
            fs.close();
        }
        if (cluster != null) {
            cluster.shutdown(true);
        }
    }

    private static SparkSession reader() {
        if (reader == null) {
            reader = SparkSession.builder().master("local[1]").appName("hdfs-reader")
                    .config("spark.ui.enabled", "false").getOrCreate();
        }
        return reader;
    }

    @Test
    void ingestSucceedsAndWritesEveryOutputToHdfs() throws Exception {
        assertEquals(0, ingest.code(), ingest.err());
        assertTrue(ingest.out().matches("(?s).*\\[ingest \\+[0-9.]+s] seen " + uploaded.size() + " files.*"), ingest.out());
        assertEquals(List.of("images", "ingest-report.json", "quarantine", "reports"), names(fs, root + "/dataset"),
                "no staging or replaced folders left behind");
    }

    @Test
    void reportOnHdfsReconcilesWithTheUpload() {
        assertEquals(0, ingest.code(), ingest.err());
        String text = new Storage(conf).readText(root + "/dataset/ingest-report.json");
        JsonNode report = Json.tree(text);
        checkReport(report, root + "/busi", uploaded);
    }

    @Test
    void imagesParquetOnHdfsHoldsTheUploadedImages() {
        assertEquals(0, ingest.code(), ingest.err());
        checkImages(reader(), root + "/dataset/images", root + "/busi", uploaded);
        assertEquals(0, reader().read().parquet(root + "/dataset/quarantine").count());
    }

    @Test
    void writeTextReplacesAtomicallyOnHdfs() throws Exception {
        StorageContract.writeTextReplaces(new Storage(conf), fs, root + "/storage/write");
    }

    @Test
    void commitFolderReplacesAFolderOnHdfs() throws Exception {
        StorageContract.commitFolderReplaces(new Storage(conf), fs, root + "/storage/commit");
    }

    @Test
    void modelStorePublishesAndLoadsTheLatestVersionOnHdfs() throws Exception {
        checkModelStore(new Storage(conf), fs, root + "/store", base.resolve("models"));
    }
}
