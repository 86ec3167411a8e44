package org.busispark.storage;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;

import java.io.Serializable;

/**
 * The context's Hadoop configuration for tasks, broadcast as Spark's own file sources do: every executor
 * deserialises its thousand-odd entries once, instead of every task deserialising its own copy with the
 * task's closure (with a local master the tasks read the driver's copy).
 */
public final class HadoopConf implements Serializable {
    private final Broadcast<SerializableConfiguration> conf;

    private HadoopConf(Broadcast<SerializableConfiguration> conf) {
        this.conf = conf;
    }

    /** The configuration as it is now; later changes to the context's configuration are not seen. */
    public static HadoopConf of(JavaSparkContext jsc) {
        return new HadoopConf(jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration())));
    }

    /** The configuration, on the driver or in a task; not to be changed. */
    public Configuration value() {
        return conf.value().value();
    }
}
