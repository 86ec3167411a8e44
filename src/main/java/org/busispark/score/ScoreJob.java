package org.busispark.score;

import org.apache.hadoop.fs.GlobPattern;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.SerializableConfiguration;
import org.busispark.augment.Normalization;
import org.busispark.augment.Preprocessor;
import org.busispark.config.BusiConfig;
import org.busispark.ingest.ImageSources;
import org.busispark.model.ImageInput;
import org.busispark.model.ModelCard;
import org.busispark.model.ModelStore;
import org.busispark.model.Prediction;
import org.busispark.model.Predictor;
import org.busispark.model.ResNetBuilder;
import org.busispark.storage.Json;
import org.busispark.storage.Progress;
import org.busispark.storage.Storage;

import java.io.Serializable;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * {@code busi score}: predicts the images under the input (any folder layout, or an ingested dataset) that the
 * model version has not scored yet, and appends them to {@code <output>/predictions/model_version=<v>/} as one
 * new run folder ({@code score_run=<id>}), committed by one rename; old runs are never rewritten. An image counts
 * as already scored when a row of that version has its {@code image_id} (the hash of its decoded pixels) and no
 * error: a renamed or copied file is not scored again, a changed one is, and error rows are retried. Grad-CAM
 * overlays go to {@code <output>/gradcam/model_version=<v>/}. Counts reconcile:
 * {@code seen = scored + errors + skipped + alreadyScored}.
 */
public final class ScoreJob {
    public static final String PREDICTIONS_DIR = "predictions";
    public static final String GRADCAM_DIR = "gradcam";
    public static final String REPORT_FILE = "score-report.json";
    /** Partition folder of one run inside a model version's partition. */
    public static final String SCORE_RUN = "score_run";
    private static final DateTimeFormatter RUN_ID = DateTimeFormatter.ofPattern("'s'yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final String MALIGNANT = "malignant";
    /** Grad-CAM keeps every layer's activations of a minibatch; smaller batches than scoring bound the memory. */
    private static final int CAM_BATCH = 8;

    private ScoreJob() {}

    public record Report(String model, String modelName, String modelVersion, String input, String run, String tta,
                         long seen, long scored, long errors, long skipped, long alreadyScored, long explained) {}

    /**
     * @param explain globs of images to explain with Grad-CAM besides the top ones, matched against the whole
     *                source path or a part of it after a '/' (e.g. {@code malignant/*.png}; {@code *}: every image)
     */
    public static Report run(SparkSession spark, BusiConfig config, String modelUri, String inputUri, String outputUri,
                             List<String> explain) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Storage storage = new Storage(spark.sparkContext().hadoopConfiguration());
        Progress progress = new Progress("score");
        ModelStore.LoadedModel loaded = ModelStore.load(storage, modelUri, null);
        ModelCard card = loaded.model().card();
        String name = loaded.name();
        String version = loaded.version();
        String input = Storage.normalize(inputUri);
        String runId = RUN_ID.format(Instant.now()) + "-" + UUID.randomUUID().toString().substring(0, 6);
        String partition = Storage.child(Storage.child(outputUri, PREDICTIONS_DIR),
                PredictionTable.MODEL_VERSION + "=" + version);
        BusiConfig.Score settings = config.score();
        progress.stage("model " + name + " version " + version + " (" + loaded.dir() + ") on " + input
                + (settings.flipAverage() ? ", averaged with the mirror image" : ""));
        JavaRDD<ImageInput> inputs = (ImageSources.isIngestedDataset(storage, input)
                ? ImageSources.fromIngested(ImageSources.ingested(spark, input, null))
                : ImageSources.fromFolder(spark, input, config, false))
                // Kept as objects: serialising every decoded image costs more than decoding it (passes read it
                // up to four times); what does not fit in memory spills to disk serialised.
                .persist(StorageLevel.MEMORY_AND_DISK());
        Broadcast<byte[]> zip = jsc.broadcast(loaded.zip());
        try {
            long seen = inputs.count();
            long skipped = inputs.filter(ImageInput::skipped).count();
            Broadcast<Set<String>> done = jsc.broadcast(alreadyScored(spark, storage, partition, inputs));
            JavaRDD<ImageInput> fresh = inputs.filter(i -> i.imageId() == null || !done.value().contains(i.imageId()));
            long already = seen - fresh.count();
            JavaRDD<Prediction> predictions = Predictor.predict(fresh, zip, card, settings.flipAverage())
                    .persist(StorageLevel.MEMORY_AND_DISK_SER());
            long errors = predictions.filter(p -> p.error() != null).count();
            long scored = predictions.count() - errors;
            if (scored + errors > 0) {
                // The commit point: one rename makes the run's rows visible at once, beside the earlier runs.
                PredictionTable.write(storage, PredictionTable.frame(spark, predictions, card.classes(), name, version,
                        false).drop(PredictionTable.MODEL_VERSION), Storage.child(partition, SCORE_RUN + "=" + runId));
            }
            progress.stage(String.format("seen %d files: %d scored, %d errors, %d skipped, %d already scored by %s",
                    seen, scored, errors, skipped, already, version));

            Set<String> top = new HashSet<>(topMalignant(predictions, card.classes(), settings.gradcamTop()));
            predictions.unpersist(false);
            String gradcam = Storage.child(Storage.child(outputUri, GRADCAM_DIR),
                    PredictionTable.MODEL_VERSION + "=" + version);
            long explained = top.isEmpty() && explain.isEmpty() ? 0
                    : explain(jsc, inputs.filter(new Selection(top, explain.stream().map(ScoreJob::glob).toList())), zip, card, gradcam);
            Report report = new Report(loaded.dir(), name, version, input, scored + errors > 0 ? runId : null,
                    settings.tta(), seen, scored, errors, skipped, already, explained);
            storage.writeText(Storage.child(outputUri, REPORT_FILE), Json.write(report));
            progress.done(String.format("%s; %d Grad-CAM overlays in %s", scored + errors > 0
                    ? "run " + runId + " committed to " + partition : "nothing new to score", explained, gradcam));
            return report;
        } finally {
            inputs.unpersist(false);
            zip.destroy(false);
        }
    }

    /**
     * The image ids among {@code inputs} that this model version scored without error before. Only ids travel
     * (a shuffle of the two id sets), and the driver holds no more ids than the input has images.
     */
    private static Set<String> alreadyScored(SparkSession spark, Storage storage, String partition,
                                             JavaRDD<ImageInput> inputs) {
        if (!storage.exists(partition) || storage.listFiles(partition).isEmpty()) {
            return Set.of();
        }
        JavaRDD<String> scored = spark.read().parquet(partition)
                .where(functions.col(PredictionTable.ERROR).isNull())
                .select(PredictionTable.IMAGE_ID).as(Encoders.STRING()).javaRDD();
        return new HashSet<>(inputs.map(ImageInput::imageId).filter(Objects::nonNull).intersection(scored).collect());
    }

    /** Source paths of the {@code n} images of this run with the highest malignant probability. */
    private static List<String> topMalignant(JavaRDD<Prediction> predictions, List<String> classes, int n) {
        int m = classes.indexOf(MALIGNANT);
        if (n == 0 || m < 0) {
            return List.of();
        }
        Comparator<Prediction> byMalignant = (Comparator<Prediction> & Serializable)
                (a, b) -> Float.compare(b.probabilities()[m], a.probabilities()[m]);
        return predictions.filter(p -> p.error() == null).takeOrdered(n, byMalignant).stream()
                .map(Prediction::sourcePath).toList();
    }

    /** Which decoded images get an overlay: the top ones, and those an {@code --explain} glob matches. */
    private record Selection(Set<String> top, List<Pattern> globs)
            implements org.apache.spark.api.java.function.Function<ImageInput, Boolean> {
        @Override
        public Boolean call(ImageInput in) {
            return in.image() != null && (top.contains(in.sourcePath())
                    || globs.stream().anyMatch(p -> p.matcher(in.sourcePath()).matches()));
        }
    }

    /** An {@code --explain} glob as a pattern over whole source paths: it may match the part after any '/'. */
    static Pattern glob(String glob) {
        return Pattern.compile("(?:.*/)?(?:" + GlobPattern.compile(glob).pattern() + ")");
    }

    /** Writes one overlay per selected image from the executors; returns how many. */
    private static long explain(JavaSparkContext jsc, JavaRDD<ImageInput> selected, Broadcast<byte[]> zip,
                                ModelCard card, String dir) {
        SerializableConfiguration conf = new SerializableConfiguration(jsc.hadoopConfiguration());
        Preprocessor pre = new Preprocessor(card.inputSize(), card.channels());
        Normalization norm = card.normalization();
        String layer = ResNetBuilder.lastBlock(card.architecture());
        List<String> classes = card.classes();
        return Predictor.withModel(selected, zip, (graph, it) -> {
            Storage storage = new Storage(conf.value());
            GradCam gradCam = new GradCam(graph, layer);
            List<String> written = new ArrayList<>();
            List<ImageInput> batch = new ArrayList<>(CAM_BATCH);
            while (it.hasNext()) {
                batch.add(it.next());
                if (batch.size() == CAM_BATCH || !it.hasNext()) {
                    float[][] x = batch.stream().map(i -> pre.input(i.image(), norm)).toArray(float[][]::new);
                    GradCam.Cam[] cams = gradCam.explain(x, pre);
                    for (int i = 0; i < cams.length; i++) {
                        String file = overlayName(batch.get(i), classes.get(cams[i].target()),
                                cams[i].probabilities()[cams[i].target()]);
                        storage.writeBytes(Storage.child(dir, file), GradCam.overlayPng(batch.get(i).image(), cams[i], classes));
                        written.add(file);
                    }
                    batch.clear();
                }
            }
            return written;
        }).count();
    }

    /** {@code <file stem>-<image id prefix>-<predicted label>-<probability>.png}, safe on every file system. */
    static String overlayName(ImageInput in, String label, float probability) {
        String file = in.sourcePath().substring(in.sourcePath().lastIndexOf('/') + 1);
        String stem = (file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file)
                .replaceAll("[^A-Za-z0-9._-]+", "_");
        return String.format(Locale.ROOT, "%s-%s-%s-%.3f.png", stem, in.imageId().substring(0, 8), label, probability);
    }
}
