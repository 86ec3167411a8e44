package org.busispark.storage;

import java.io.PrintWriter;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/**
 * Human-readable progress: which stage, how far, how fast. Goes to the CLI's standard output (Spark's own
 * logging goes to standard error and stays at warnings).
 */
public final class Progress {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");
    private static volatile PrintWriter sink = new PrintWriter(System.out, true);
    private final String stage;
    private final long start = System.nanoTime();

    public Progress(String stage) {
        this.stage = stage;
    }

    /** Where every stage's progress goes from now on (the CLI points it at its own output). */
    public static void redirect(PrintWriter out) {
        sink = out;
    }

    public void stage(String message) {
        PrintWriter out = sink;
        out.printf("%s [%s +%.1fs] %s%n", LocalTime.now().format(CLOCK), stage, elapsedSeconds(), message);
        out.flush();
    }

    public void done(String message) {
        stage(message + String.format(" (%.1f s)", elapsedSeconds()));
    }

    public double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }
}
