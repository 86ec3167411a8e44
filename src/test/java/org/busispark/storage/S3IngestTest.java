package org.busispark.storage;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.TransientApiMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.busispark.storage.RealStorageFixture.*;
import static org.busispark.storage.StorageContract.names;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code busi ingest} and {@link Storage} against a real S3 API: s3proxy (an S3 server over jclouds' in-memory
 * "transient" blobstore, AWS v2/v4 signatures checked) on a free loopback port, reached through Hadoop's s3a
 * client exactly as a deployment would, with its settings passed as {@code busi.spark.properties} overrides.
 */
class S3IngestTest {
    private static final String BUCKET = "busi-test";
    private static final String ACCESS_KEY = "busi-access";
    /** Random, so that finding it in an output can only mean the output leaked it. */
    private static final String SECRET_KEY = "secret-" + UUID.randomUUID();

    private static BlobStoreContext blobs;
    private static S3Proxy s3;
    private static Map<String, String> s3a;
    private static Configuration conf;
    private static FileSystem fs;
    private static List<SampleFile> uploaded;
    private static CliResult ingest;
    private static SparkSession reader;

    @BeforeAll
    static void startS3AndIngest() throws Exception {
        blobs = ContextBuilder.newBuilder(new TransientApiMetadata()).credentials(ACCESS_KEY, SECRET_KEY).build(BlobStoreContext.class);
        blobs.getBlobStore().createContainerInLocation(null, BUCKET);
        s3 = S3Proxy.builder()
                .blobStore(blobs.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        s3.start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!"STARTED".equals(s3.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("s3proxy did not start: " + s3.getState());
            }
            Thread.sleep(20);
        }

        s3a = new LinkedHashMap<>();
        s3a.put("fs.s3a.endpoint", "http://127.0.0.1:" + s3.getPort());
        s3a.put("fs.s3a.endpoint.region", "us-east-1");
        s3a.put("fs.s3a.path.style.access", "true");
        s3a.put("fs.s3a.connection.ssl.enabled", "false");
        s3a.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        s3a.put("fs.s3a.access.key", ACCESS_KEY);
        s3a.put("fs.s3a.secret.key", SECRET_KEY);
        // Fail fast instead of minutes of retries should the server misbehave.
        s3a.put("fs.s3a.attempts.maximum", "2");
        s3a.put("fs.s3a.retry.limit", "2");
        conf = new Configuration();
        s3a.forEach(conf::set);

        fs = FileSystem.newInstance(URI.create("s3a://" + BUCKET + "/"), conf);
        uploaded = sampleSubset();
        upload(fs, "s3a://" + BUCKET + "/busi", uploaded);

        List<String> args = new ArrayList<>(List.of("ingest", "--conf", "conf/local.conf",
                "--input", "s3a://" + BUCKET + "/busi", "--output", "s3a://" + BUCKET + "/dataset"));
        s3a.forEach((k, v) -> args.add("-Dbusi.spark.properties.\"spark.hadoop." + k + "\"=" + v));
        stopAnySparkSession();
        ingest = cli(args.toArray(String[]::new));
    }

    @AfterAll
    static void stopAll() throws Exception {
        if (reader != null) {
            reader.stop();
        }
        if (fs != null) {
            fs.close();
            // Spark's cached s3a instance for this bucket points at a server about to go away.
            FileSystem.get(URI.create("s3a://" + BUCKET + "/"), conf).close();
        }
        if (s3 != null) {
            s3.stop();
        }
        if (blobs != null) {
            blobs.close();
        }
    }

    private static SparkSession reader() {
        if (reader == null) {
            SparkSession.Builder b = SparkSession.builder().master("local[1]").appName("s3a-reader")
                    .config("spark.ui.enabled", "false");
            s3a.forEach((k, v) -> b.config("spark.hadoop." + k, v));
            reader = b.getOrCreate();
        }
        return reader;
    }

    @Test
    void ingestSucceedsAndWritesEveryOutputToS3() throws Exception {
        assertEquals(0, ingest.code(), ingest.err());
        assertTrue(ingest.out().matches("(?s).*\\[ingest \\+[0-9.]+s] seen " + uploaded.size() + " files.*"), ingest.out());
        assertEquals(List.of("images", "ingest-report.json", "quarantine", "reports"), names(fs, "s3a://" + BUCKET + "/dataset"),
                "no staging or replaced folders left behind");
    }

    @Test
    void reportOnS3ReconcilesWithTheUpload() {
        assertEquals(0, ingest.code(), ingest.err());
        JsonNode report = Json.tree(new Storage(conf).readText("s3a://" + BUCKET + "/dataset/ingest-report.json"));
        checkReport(report, "s3a://" + BUCKET + "/busi", uploaded);
    }

    @Test
    void imagesParquetOnS3HoldsTheUploadedImages() {
        assertEquals(0, ingest.code(), ingest.err());
        checkImages(reader(), "s3a://" + BUCKET + "/dataset/images", "s3a://" + BUCKET + "/busi", uploaded);
        assertEquals(0, reader().read().parquet("s3a://" + BUCKET + "/dataset/quarantine").count());
    }

    @Test
    void secretKeyAppearsNeitherInTheReportNorInTheCliOutput() {
        assertEquals(0, ingest.code(), ingest.err());
        String report = new Storage(conf).readText("s3a://" + BUCKET + "/dataset/ingest-report.json");
        assertFalse(report.contains(SECRET_KEY), "report leaks the secret key");
        assertFalse(ingest.out().contains(SECRET_KEY), "stdout leaks the secret key");
        assertFalse(ingest.err().contains(SECRET_KEY), "stderr leaks the secret key");
    }

    @Test
    void storageRoundTripOnS3() throws Exception {
        StorageContract.writeTextReplaces(new Storage(conf), fs, "s3a://" + BUCKET + "/storage/write");
    }

    @Test
    void commitFolderReplacesAFolderOnS3() throws Exception {
        StorageContract.commitFolderReplaces(new Storage(conf), fs, "s3a://" + BUCKET + "/storage/commit");
    }

    @Test
    void modelStorePublishesAndLoadsTheLatestVersionOnS3(@TempDir java.nio.file.Path local) throws Exception {
        checkModelStore(new Storage(conf), fs, "s3a://" + BUCKET + "/store", local);
    }
}
