package org.busispark.ingest;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.busispark.config.BusiConfig;
import org.busispark.storage.Json;
import org.busispark.storage.Progress;
import org.busispark.storage.Storage;
import scala.Tuple2;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code busi ingest}: lists and decodes every file under the input in parallel, and writes accepted images,
 * quarantined entries and a reconciling report under the output. Nothing but counts reaches the driver.
 */
public final class IngestJob {
    private IngestJob() {}

    /** Lists and resolves the files under {@code input}; the caller persists or consumes the outcomes. */
    public static JavaRDD<IngestRules.Outcome> outcomes(SparkSession spark, String input, BusiConfig config,
                                                        boolean requireLabel) {
        List<String> classes = config.model().classes();
        BusiConfig.Ingest settings = config.ingest();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaPairRDD<String, IngestRules.SourceFile> keyed = FileListing.read(jsc, input, settings.maxFileBytes())
                .mapToPair(f -> {
                    SourceLayout.Entry entry = SourceLayout.classify(f.path(), classes);
                    String key = entry.kind() == SourceLayout.Kind.SKIPPED ? "skipped:" + f.path() : entry.groupKey();
                    return new Tuple2<>(key, new IngestRules.SourceFile(f.path(), entry, f.content(), f.length(),
                            f.readError()));
                });
        return keyed.groupByKey().flatMap(group -> {
            List<IngestRules.SourceFile> parts = new ArrayList<>();
            group._2().forEach(parts::add);
            return IngestRules.resolve(parts, settings, requireLabel).iterator();
        });
    }

    public static IngestReport run(SparkSession spark, BusiConfig config, String input, String output) {
        Storage storage = new Storage(spark.sparkContext().hadoopConfiguration());
        Progress progress = new Progress("ingest");
        progress.stage("listing and decoding " + Storage.normalize(input));
        JavaRDD<IngestRules.Outcome> outcomes = outcomes(spark, input, config, true)
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            Map<String, Long> counts = outcomes
                    .map(IngestReport::countKey)
                    .countByValue();
            IngestReport report = IngestReport.fromCounts(Storage.normalize(input), counts, config);
            progress.stage(String.format("seen %d files: %d accepted, %d quarantined, %d skipped",
                    report.seen(), report.accepted(), report.quarantined(), report.skipped()));

            List<String> classes = config.model().classes();
            Timestamp now = Timestamp.from(Instant.now());
            String imagesDir = Storage.child(output, ImageTable.IMAGES_DIR);
            String staging = storage.stagingFor(imagesDir);
            spark.createDataFrame(outcomes.filter(o -> o.status() == IngestRules.Status.ACCEPTED)
                            .map(o -> ImageTable.imageRow(o, classes, now)), ImageTable.IMAGES)
                    .write().mode(SaveMode.ErrorIfExists)
                    .option("compression", "uncompressed") // PNG bytes are compressed already
                    .partitionBy(ImageTable.SPLIT)
                    .parquet(staging);
            storage.commitFolder(staging, imagesDir);

            String quarantineDir = Storage.child(output, ImageTable.QUARANTINE_DIR);
            String qStaging = storage.stagingFor(quarantineDir);
            spark.createDataFrame(outcomes.filter(o -> o.status() == IngestRules.Status.QUARANTINED)
                            .map(ImageTable::quarantineRow), ImageTable.QUARANTINE)
                    .coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(qStaging);
            storage.commitFolder(qStaging, quarantineDir);

            storage.writeText(Storage.child(output, ImageTable.REPORT_FILE), Json.write(report));
            progress.done("dataset written to " + imagesDir);
            return report;
        } finally {
            outcomes.unpersist(false);
        }
    }
}
