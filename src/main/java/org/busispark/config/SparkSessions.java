package org.busispark.config;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.Map;

/** Creates the one SparkSession of a job from {@link BusiConfig.Spark}; spark-submit's settings take precedence. */
public final class SparkSessions {
    private static final String EXECUTOR_JAVA_OPTIONS = "spark.executor.extraJavaOptions";
    private static final String HADOOP_PREFIX = "spark.hadoop.";
    static final String PARQUET_BATCH_ROWS = "spark.sql.parquet.columnarReaderBatchSize";
    static final String MAX_PARTITION_BYTES = "spark.sql.files.maxPartitionBytes";

    private SparkSessions() {}

    public static SparkSession create(BusiConfig.Spark settings) {
        return SparkSession.builder().config(conf(settings)).getOrCreate();
    }

    /**
     * The Hadoop configuration a job would get, for commands that only touch storage and start no Spark: Hadoop's
     * defaults plus every spark.hadoop.* property (S3A endpoint, credentials provider, ...).
     */
    public static Configuration hadoopConfiguration(BusiConfig.Spark settings) {
        Configuration hadoop = new Configuration();
        for (scala.Tuple2<String, String> e : conf(settings).getAllWithPrefix(HADOOP_PREFIX)) {
            hadoop.set(e._1(), e._2());
        }
        return hadoop;
    }

    private static SparkConf conf(BusiConfig.Spark settings) {
        SparkConf conf = new SparkConf(true); // picks up spark.* system properties set by spark-submit
        conf.setIfMissing("spark.master", settings.master());
        conf.setIfMissing("spark.app.name", settings.appName());
        // DL4J ships INDArrays between driver and workers: Kryo with ND4J's registrator serialises them.
        conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        conf.setIfMissing("spark.kryo.registrator", BusiKryoRegistrator.class.getName());
        // Parquet's vectorised reader fills batches of 4096 rows; with a PNG of ~130 KB in every row of the image
        // table that is one contiguous allocation of up to 500 MB per task, growing with the files' row counts
        // (an 8-fold BUSI set failed in a 1.5 GB heap). 64 rows keep it near 8 MB.
        conf.setIfMissing(PARQUET_BATCH_ROWS, "64");
        // Read partitions of at most 32 MB (Spark's default is 128 MB): a training task caches a whole partition
        // of PNG rows, so partitions must stay the same size however large the dataset (the image table's row
        // groups are 16 MB, ParquetFiles.ROW_GROUP_BYTES, so files split that finely).
        conf.setIfMissing(MAX_PARTITION_BYTES, String.valueOf(32 << 20));
        for (Map.Entry<String, String> e : settings.properties().entrySet()) {
            conf.setIfMissing(e.getKey(), e.getValue());
        }
        // Executors on a cluster are JVMs of their own that load ND4J too; options given later on the line win.
        String executorOptions = conf.get(EXECUTOR_JAVA_OPTIONS, "");
        conf.set(EXECUTOR_JAVA_OPTIONS, (Nd4jRuntime.executorJavaOptions() + " " + executorOptions).strip());
        return conf;
    }
}
