package org.busispark.storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The code version recorded in model cards: project version and git commit, filled in by the build. */
public final class BuildInfo {
    private static final Properties PROPS = load();

    private BuildInfo() {}

    public static String version() {
        String v = PROPS.getProperty("version", "unknown");
        String commit = PROPS.getProperty("commit", "");
        boolean resolved = !commit.isEmpty() && !commit.startsWith("${");
        String dirty = "true".equals(PROPS.getProperty("dirty")) ? "-dirty" : "";
        return resolved ? v + "+" + commit + dirty : v;
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/busi-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // Version stays "unknown": a missing resource must not stop training.
        }
        return p;
    }
}
