package org.busispark.testing;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For test classes that read outputs with Spark: {@link #session()} gives a local session, and the extension
 * stops whatever session is active after the class, so the next class starts from a clean JVM state.
 */
public final class StopsSpark implements AfterAllCallback {
    public static SparkSession session() {
        return SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    }

    /** Stops the active and the default session, if any, so that the next getOrCreate() builds a new one. */
    public static void stopAnySession() {
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
        SparkSession.getDefaultSession().foreach(s -> {
            s.stop();
            return null;
        });
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
    }
}
