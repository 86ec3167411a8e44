// Exports the ingested dataset's split as CSV (source_path,label,split,dup_group) for bench/sweep/pack.py.
// Reads DATASET/images/ (Parquet, partitioned by ingest_run and split) with a local Spark session.
// Run from the repo root (after `mvn -q -DskipTests package`):
//   java -cp "target/busi-spark.jar:$(cat target/classpath.txt)" bench/sweep/export_split.java DATASET OUT.csv
// Spark needs the pom's spark.jvm.opens flags on Java 17: without them the program starts itself again with them
// (read from ./pom.xml, else the copy below), so the plain command above works.
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class export_split {
    /** The pom's spark.jvm.opens, for when pom.xml is not in the working directory. */
    private static final String OPENS = "-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED "
            + "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED "
            + "--add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED "
            + "--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED "
            + "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED "
            + "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED "
            + "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED "
            + "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED "
            + "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false";

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: export_split DATASET OUT.csv");
            System.exit(2);
        }
        if (!Object.class.getModule().isOpen("sun.nio.ch", export_split.class.getModule())
                && System.getProperty("export_split.relaunched") == null) {
            System.exit(relaunchWithOpens());
        }
        SparkSession spark = SparkSession.builder().master("local[1]").appName("export-split")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            Dataset<Row> images = spark.read().parquet(Path.of(args[0], "images").toString());
            List<Row> rows = images.select("source_path", "label", "split", "dup_group")
                    .orderBy("split", "label", "source_path").collectAsList();
            Path out = Path.of(args[1]);
            if (out.toAbsolutePath().getParent() != null) {
                Files.createDirectories(out.toAbsolutePath().getParent());
            }
            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8))) {
                w.print("source_path,label,split,dup_group\n");
                for (Row r : rows) {
                    w.print(csv(r.get(0)) + "," + csv(r.get(1)) + "," + csv(r.get(2)) + "," + csv(r.get(3)) + "\n");
                }
            }
            System.out.println("export_split: " + rows.size() + " rows -> " + out);
        } finally {
            spark.stop();
        }
    }

    /** Runs this same command line again with Spark's --add-opens flags; returns its exit code. */
    private static int relaunchWithOpens() throws IOException, InterruptedException {
        String opens = OPENS;
        Path pom = Path.of("pom.xml");
        if (Files.exists(pom)) {
            Matcher m = Pattern.compile("<spark.jvm.opens>(.*?)</spark.jvm.opens>").matcher(Files.readString(pom));
            if (m.find()) {
                opens = m.group(1);
            }
        }
        // this JVM's command line: /proc/self/cmdline on Linux, else what ProcessHandle knows
        List<String> self = new ArrayList<>();
        Path cmdline = Path.of("/proc/self/cmdline");
        if (Files.isReadable(cmdline)) {
            self.addAll(Arrays.asList(new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).split("\0")));
        } else {
            ProcessHandle.Info info = ProcessHandle.current().info();
            info.command().ifPresent(self::add);
            info.arguments().ifPresent(a -> self.addAll(Arrays.asList(a)));
        }
        if (self.size() < 2) {
            throw new IllegalStateException("cannot read this JVM's command line; pass the pom's spark.jvm.opens");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(opens.trim().split("\\s+")));
        cmd.add("-Dexport_split.relaunched=true");
        cmd.addAll(self.subList(1, self.size()));
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }

    private static String csv(Object value) {
        if (value == null) {
            return "";
        }
        String s = value.toString();
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }
}
