package org.busispark.config;

import org.busispark.storage.BuildInfo;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * ND4J's native settings, which must be in place before ND4J loads because both are read once, at class load:
 * <ul>
 *   <li>which natives to load: the build ships nd4j-native's oneDNN build ({@code linux-x86_64-onednn}), found
 *   through JavaCPP's platform extension;</li>
 *   <li>DL4J's layer helpers, which run convolution, batch norm and pooling through oneDNN. DL4J 1.0.0-M2 turns
 *   them off by default; on: ResNet-18 trains about 4x and infers about 10x faster on CPU (docs/benchmarks.md).</li>
 * </ul>
 * Settings given explicitly ({@code -Dkey=value}) win. Executors are separate JVMs, so they get the same settings
 * as JVM options ({@link #executorJavaOptions}).
 */
public final class Nd4jRuntime {
    static final String PLATFORM_EXTENSION = "org.bytedeco.javacpp.platform.extension";
    static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";

    private Nd4jRuntime() {}

    /** Sets the defaults this build needs in this JVM; call before anything touches ND4J. */
    public static void configure() {
        settings().forEach(System.getProperties()::putIfAbsent);
    }

    /** The same settings as {@code -D} options for executor JVMs (values given in this JVM win). */
    public static String executorJavaOptions() {
        return settings().entrySet().stream()
                .map(e -> "-D" + e.getKey() + "=" + System.getProperty(e.getKey(), e.getValue()))
                .collect(Collectors.joining(" "));
    }

    static Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        String extension = BuildInfo.nativeExtension();
        if (!extension.isEmpty()) {
            s.put(PLATFORM_EXTENSION, extension);
        }
        s.put(HELPERS_DISABLE, "false");
        return s;
    }
}
