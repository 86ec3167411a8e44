package org.busispark.config;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.Map;

/** Creates the one SparkSession of a job from {@link BusiConfig.Spark}; spark-submit's settings take precedence. */
public final class SparkSessions {
    private SparkSessions() {}

    public static SparkSession create(BusiConfig.Spark settings) {
        SparkConf conf = new SparkConf(true); // picks up spark.* system properties set by spark-submit
        conf.setIfMissing("spark.master", settings.master());
        conf.setIfMissing("spark.app.name", settings.appName());
        // DL4J ships INDArrays between driver and workers: Kryo with ND4J's registrator serialises them.
        conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        conf.setIfMissing("spark.kryo.registrator", BusiKryoRegistrator.class.getName());
        for (Map.Entry<String, String> e : settings.properties().entrySet()) {
            conf.setIfMissing(e.getKey(), e.getValue());
        }
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
