package org.busispark.storage;

import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** Human-readable progress on stdout: which stage, how far, how fast; Spark's own logging stays quiet. */
public final class Progress {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");
    private final String stage;
    private final long start = System.nanoTime();
    private final PrintStream out;

    public Progress(String stage) {
        this(stage, System.out);
    }

    Progress(String stage, PrintStream out) {
        this.stage = stage;
        this.out = out;
    }

    public void stage(String message) {
        out.printf("%s [%s] %s%n", LocalTime.now().format(CLOCK), stage, message);
        out.flush();
    }

    public void done(String message) {
        stage(message + String.format(" (%.1f s)", elapsedSeconds()));
    }

    public double elapsedSeconds() {
        return Duration.ofNanos(System.nanoTime() - start).toMillis() / 1000.0;
    }
}
