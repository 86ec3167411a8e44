package org.busispark.storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Facts the build fills in: the code version recorded in model cards (project version and git commit), the natives. */
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

    /**
     * The JavaCPP platform extension of the ND4J natives this build packages ({@code -onednn} by default), or
     * empty for plain natives.
     */
    public static String nativeExtension() {
        String e = PROPS.getProperty("nativeExtension", "");
        return e.startsWith("${") ? "" : e;
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
