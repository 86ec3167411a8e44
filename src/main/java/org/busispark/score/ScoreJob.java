package org.busispark.score;

import org.apache.hadoop.fs.GlobPattern;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.busispark.augment.Normalization;
import org.busispark.augment.Preprocessor;
import org.busispark.config.BusiConfig;
import org.busispark.ingest.ImageSources;
import org.busispark.ingest.IngestSources;
import org.busispark.model.ImageInput;
import org.busispark.model.ModelCard;
import org.busispark.model.ModelStore;
import org.busispark.model.Prediction;
import org.busispark.model.Predictor;
import org.busispark.model.ResNetBuilder;
import org.busispark.storage.HadoopConf;
import org.busispark.storage.Json;
import org.busispark.storage.ParquetFiles;
import org.busispark.storage.Progress;
import org.busispark.storage.Storage;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.io.Serializable;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

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
        // SITE=URI names the site (and a configured source's CSV mapping); a bare URI is the site of its folder.
        BusiConfig.Source source = IngestSources.resolve(List.of(inputUri), config.ingest().sources()).get(0);
        String input = Storage.normalize(source.uri());
        String site = source.site();
        boolean ingested = ImageSources.isIngestedDataset(storage, input);
        String runId = RUN_ID.format(Instant.now()) + "-" + UUID.randomUUID().toString().substring(0, 6);
        String partition = Storage.child(Storage.child(outputUri, PREDICTIONS_DIR),
                PredictionTable.MODEL_VERSION + "=" + version);
        String runDir = Storage.child(partition, SCORE_RUN + "=" + runId);
        String staging = storage.stagingFor(runDir);
        BusiConfig.Score settings = config.score();
        progress.stage("model " + name + " version " + version + " (" + loaded.dir() + ") on " + input
                + (settings.flipAverage() ? ", averaged with the mirror image" : ""));
        // The driver lists the input while it prepares the network: both take a few tenths of a second.
        CompletableFuture<JavaRDD<ImageInput>> listed = CompletableFuture.supplyAsync(
                () -> inputs(spark, config, input, site, ingested, ImageSources.PathFilter.ALL));
        Set<String> done = scoredBefore(spark, storage, partition);
        try (Predictor.SharedModel model = Predictor.share(jsc, loaded.model().graph(), loaded::zip)) {
            // One pass: each task reads, decodes, predicts and writes its rows, and sends back only counts and
            // its most malignant images; no decoded image is kept or read twice.
            Tally total = Predictor.withModel(joined(listed), model,
                    new ScorePartition(HadoopConf.of(jsc), staging,
                            new Preprocessor(card.inputSize(), card.channels()), card.normalization(),
                            List.copyOf(card.classes()), name, Instant.now(), settings.flipAverage(),
                            card.classes().contains(MALIGNANT) ? settings.gradcamTop() : 0, done))
                    .collect().stream().reduce(Tally.NONE, Tally::plus);
            if (total.scored() + total.errors() > 0) {
                // The commit point: one rename makes the run's rows visible at once, beside the earlier runs.
                storage.commitFolder(staging, runDir, total.files());
            } else if (storage.exists(staging)) {
                storage.delete(staging);
            }
            progress.stage(String.format("seen %d files: %d scored, %d errors, %d skipped, %d already scored by %s",
                    total.seen(), total.scored(), total.errors(), total.skipped(), total.already(), version));

            Set<String> top = total.top().stream().limit(settings.gradcamTop()).map(Candidate::sourcePath)
                    .collect(Collectors.toSet());
            String gradcam = Storage.child(Storage.child(outputUri, GRADCAM_DIR),
                    PredictionTable.MODEL_VERSION + "=" + version);
            long explained = top.isEmpty() && explain.isEmpty() ? 0
                    : explain(jsc, inputs(spark, config, input, site, ingested,
                            new Selection(top, explain.stream().map(ScoreJob::glob).toList())), model, card, gradcam);
            Report report = new Report(loaded.dir(), name, version, input, total.scored() + total.errors() > 0
                    ? runId : null, settings.tta(), total.seen(), total.scored(), total.errors(), total.skipped(),
                    total.already(), explained);
            storage.writeText(Storage.child(outputUri, REPORT_FILE), Json.write(report));
            progress.done(String.format("%s; %d Grad-CAM overlays in %s", report.run() != null
                    ? "run " + runId + " committed to " + partition : "nothing new to score", explained, gradcam));
            return report;
        }
    }

    /** The value of a future, its failure rethrown as it was thrown (a missing input says so). */
    private static <T> T joined(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private static JavaRDD<ImageInput> inputs(SparkSession spark, BusiConfig config, String input, String site,
                                              boolean ingested, ImageSources.PathFilter keep) {
        return ingested ? ImageSources.fromIngested(ImageSources.ingested(spark, input, null), keep)
                : ImageSources.fromFolder(spark, input, site, config, false, keep);
    }

    /**
     * The image ids this model version scored without error in earlier runs. The driver holds them and sends them
     * to every executor once, with the scoring stage's closure (which Spark broadcasts): as many strings as the
     * version has rows.
     */
    private static Set<String> scoredBefore(SparkSession spark, Storage storage, String partition) {
        if (!storage.exists(partition) || storage.listFiles(partition).isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(spark.read().parquet(partition)
                .where(functions.col(PredictionTable.ERROR).isNull())
                .select(PredictionTable.IMAGE_ID).distinct().as(Encoders.STRING()).collectAsList());
    }

    /** An image of this run and its malignant probability, for choosing the Grad-CAM overlays. */
    record Candidate(String sourcePath, float malignant) implements Serializable {
        static final Comparator<Candidate> MOST_MALIGNANT =
                Comparator.comparing(Candidate::malignant).reversed().thenComparing(Candidate::sourcePath);
    }

    /**
     * What a task did: the file it wrote (if any), its counts, and its most malignant images, best first (each task
     * sends at most the overlay count; the driver keeps the overall top ones).
     */
    record Tally(List<String> files, long seen, long scored, long errors, long skipped, long already,
                 List<Candidate> top) implements Serializable {
        static final Tally NONE = new Tally(List.of(), 0, 0, 0, 0, 0, List.of());

        Tally plus(Tally o) {
            List<String> f = new ArrayList<>(files);
            f.addAll(o.files);
            List<Candidate> t = new ArrayList<>(top);
            t.addAll(o.top);
            t.sort(Candidate.MOST_MALIGNANT);
            return new Tally(f, seen + o.seen, scored + o.scored, errors + o.errors, skipped + o.skipped,
                    already + o.already, List.copyOf(t));
        }
    }

    /** One task's pass: predict what is new in minibatches and write the rows as they come. */
    private record ScorePartition(HadoopConf conf, String staging, Preprocessor pre,
                                  Normalization norm, List<String> classes, String modelName, Instant scoredAt,
                                  boolean flipAverage, int keepTop, Set<String> done)
            implements Predictor.PartitionFunction<ImageInput, Tally> {
        @Override
        public List<Tally> apply(ComputationGraph graph, Iterator<ImageInput> it) {
            int malignant = classes.indexOf(MALIGNANT);
            PriorityQueue<Candidate> top = new PriorityQueue<>(Candidate.MOST_MALIGNANT.reversed());
            Path file = new Path(staging, ParquetFiles.taskFileName());
            long seen = 0;
            long skipped = 0;
            long already = 0;
            long errors = 0;
            long scored = 0;
            List<ImageInput> batch = new ArrayList<>(Predictor.BATCH);
            try (PredictionWriter out = new PredictionWriter(conf.value(), file, classes, modelName, scoredAt)) {
                while (it.hasNext()) {
                    ImageInput in = it.next();
                    seen++;
                    if (in.skipped()) {
                        skipped++;
                    } else if (in.error() != null) {
                        out.write(Predictor.failed(in));
                        errors++;
                    } else if (done.contains(in.imageId())) {
                        already++;
                    } else {
                        batch.add(in);
                    }
                    if (batch.size() == Predictor.BATCH || !it.hasNext() && !batch.isEmpty()) {
                        for (Prediction p : Predictor.predictBatch(graph, batch, pre, norm, flipAverage)) {
                            out.write(p);
                            scored++;
                            if (keepTop > 0) {
                                top.add(new Candidate(p.sourcePath(), p.probabilities()[malignant]));
                                if (top.size() > keepTop) {
                                    top.poll();
                                }
                            }
                        }
                        batch.clear();
                    }
                }
                List<Candidate> best = new ArrayList<>(top);
                best.sort(Candidate.MOST_MALIGNANT);
                List<String> files = out.file() == null ? List.of() : List.of(out.file());
                return List.of(new Tally(files, seen, scored, errors, skipped, already, best));
            }
        }
    }

    /** Which images get an overlay: the top ones, and those an {@code --explain} glob matches. */
    private record Selection(Set<String> top, List<Pattern> globs) implements ImageSources.PathFilter {
        @Override
        public boolean keep(String sourcePath) {
            return top.contains(sourcePath) || globs.stream().anyMatch(p -> p.matcher(sourcePath).matches());
        }
    }

    /** An {@code --explain} glob as a pattern over whole source paths: it may match the part after any '/'. */
    static Pattern glob(String glob) {
        return Pattern.compile("(?:.*/)?(?:" + GlobPattern.compile(glob).pattern() + ")");
    }

    /** Writes one overlay per selected image from the executors; returns how many. */
    private static long explain(JavaSparkContext jsc, JavaRDD<ImageInput> selected, Predictor.SharedModel model,
                                ModelCard card, String dir) {
        HadoopConf conf = HadoopConf.of(jsc);
        Preprocessor pre = new Preprocessor(card.inputSize(), card.channels());
        Normalization norm = card.normalization();
        String layer = ResNetBuilder.lastBlock(card.architecture());
        List<String> classes = card.classes();
        return Predictor.withModel(selected.filter(i -> i.image() != null), model, (graph, it) -> {
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
