package org.busispark.testing;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Command lines for tests that run a class of this build in a separate JVM, e.g. to kill it. */
public final class ChildJvm {
    private ChildJvm() {}

    /** {@code java} with this JVM's classpath and {@link #sparkOptions}. */
    public static List<String> command(String maxHeap, String mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(sparkOptions());
        cmd.addAll(List.of("-Xmx" + maxHeap, "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The --add-opens list surefire gave this JVM (the pom's spark.jvm.opens), which Spark needs on Java 17. */
    public static List<String> sparkOptions() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions")
                        || a.startsWith("-Djdk.reflect."))
                .toList();
    }

    /** Kills {@code process} and everything it started, and waits until it is gone. */
    public static void kill(Process process) throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            throw new AssertionError("process " + process.pid() + " did not die");
        }
    }
}
