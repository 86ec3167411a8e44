import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.config.Nd4jRuntime;
import org.busispark.config.SparkSessions;
import org.busispark.score.ScoreJob;

import java.io.File;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

/**
 * `busi score` run several times in one JVM and one Spark session, as a long-lived service or notebook would run
 * it: how much of a cold run is the JVM's warm-up. Each run scores into a fresh output folder; the time includes
 * loading the model. Usage (from the project root, after bench/InitModel.java MODEL 128 1.0):
 *   java -cp CLASSPATH bench/ScoreRepeat.java MASTER INPUT MODEL [RUNS]
 */
public class ScoreRepeat {
    public static void main(String[] a) throws Exception {
        Nd4jRuntime.configure();
        BusiConfig config = ConfigLoader.load(new File("conf/local.conf"),
                Map.of("busi.spark.master", a[0], "busi.score.gradcam-top", "0"));
        int runs = a.length > 3 ? Integer.parseInt(a[3]) : 3;
        File out = Files.createTempDirectory("score-repeat").toFile();
        var spark = SparkSessions.create(config.spark());
        try {
            for (int i = 1; i <= runs; i++) {
                long start = System.nanoTime();
                ScoreJob.Report r = ScoreJob.run(spark, config, a[2], a[1], new File(out, "run" + i).toString(), List.of());
                double s = (System.nanoTime() - start) / 1e9;
                System.out.printf("run %d at %s: %d images in %.2f s (model loading included): %.1f images/s%n", i, a[0],
                        r.scored(), s, r.scored() / s);
            }
        } finally {
            spark.stop();
        }
    }
}
