package org.busispark.train;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.busispark.augment.Augmenter;
import org.busispark.augment.LesionBox;
import org.busispark.augment.Normalization;
import org.busispark.augment.Preprocessor;
import org.busispark.config.BusiConfig;
import org.busispark.evaluate.Metrics;
import org.busispark.evaluate.MetricsAccumulator;
import org.busispark.ingest.ImageCodec;
import org.busispark.ingest.ImageSources;
import org.busispark.ingest.ImageTable;
import org.busispark.ingest.Splits;
import org.busispark.model.ImageInput;
import org.busispark.model.LearningRates;
import org.busispark.model.ModelCard;
import org.busispark.model.ModelStore;
import org.busispark.model.Origin;
import org.busispark.model.Predictor;
import org.busispark.model.PretrainedWeights;
import org.busispark.model.ResNetBuilder;
import org.busispark.model.onednn.OneDnnLayers;
import org.busispark.model.TrainedModel;
import org.busispark.storage.BuildInfo;
import org.busispark.storage.Json;
import org.busispark.storage.Progress;
import org.busispark.storage.Storage;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import scala.Tuple2;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code busi train}: reads the ingested train and validation splits, re-augments the training images every
 * epoch in a Spark map stage, fits a ResNet with dl4j-spark's parameter averaging, and keeps the epoch with
 * the best validation macro-F1. Writes {@code <output>/model/} and {@code <output>/history/epochs.jsonl}.
 */
public final class TrainJob {
    public static final String HISTORY_FILE = "history/epochs.jsonl";
    /** Where the best epoch's model goes when the model kept is an average of the last epochs. */
    public static final String BEST_EPOCH_MODEL_DIR = "model-best-epoch";

    /** A row's site, "" where its source named none (as {@link ImageSources#sites} lists it). */
    private static final Column SITE = functions.coalesce(functions.col(ImageTable.SITE), functions.lit(""));

    private TrainJob() {}

    /** @param resume continue from the newest complete checkpoint under {@code outputUri}, if there is one */
    public static TrainedModel run(SparkSession spark, BusiConfig config, String dataUri, String outputUri,
                                   boolean resume) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Storage storage = new Storage(spark.sparkContext().hadoopConfiguration());
        Progress progress = new Progress("train");
        BusiConfig.Model modelCfg = config.model();
        BusiConfig.Train trainCfg = config.train();
        String data = Storage.normalize(dataUri);
        if (!ImageSources.isIngestedDataset(storage, data)) {
            throw new IllegalArgumentException("No ingested dataset at " + data + ": run `busi ingest` first (expected "
                    + ImageTable.IMAGES_DIR + "/ under it)");
        }

        // Leave-one-site-out: the held-out site takes no part in training or in choosing the epoch.
        String heldOut = trainCfg.heldOutSite();
        if (heldOut != null) {
            ImageSources.requireSite(spark, data, heldOut);
        }
        Dataset<Row> trainRowsDf = ImageSources.forTraining(spark, data, Splits.TRAIN, heldOut);
        // Masks are decoded once, to their lesion's box, and only when the augmentation uses them.
        boolean lesions = config.augment().lesionCrop() > 0;
        // Rows are cached on local disk only: they are read a few times per epoch, sequentially, and kept on the
        // heap they took Spark's storage share in proportion to the dataset (an eight-fold BUSI set failed in a
        // 1 GB heap that trains the plain folder; docs/benchmarks.md, training memory).
        // Each row is indexed by its rank in (image id, source path) order, which the averaging rounds are cut from:
        // a seed trains the same way on the same images however many files the dataset was written in, and however
        // Spark partitions them. Only the keys come to the driver. With site balancing the ranks are ordered by
        // site first, so that each site's rows are one range of ranks (EpochSplits.siteBalanced).
        boolean balanced = trainCfg.siteBalanced();
        Column rankSite = balanced ? SITE : functions.lit("");
        List<String> trainKeys = trainRowsDf.select(rankSite, functions.col(ImageTable.IMAGE_ID),
                        functions.col(ImageTable.SOURCE_PATH)).collectAsList().stream()
                .map(r -> rankKey(r.getString(0), r.getString(1), r.getString(2))).sorted().toList();
        Broadcast<Map<String, Long>> ranks = jsc.broadcast(ranks(trainKeys));
        JavaPairRDD<TrainingExamples.Row, Long> indexedTrainRows = trainRowsDf
                .select(functions.col(ImageTable.IMAGE_ID), functions.col(ImageTable.LABEL_INDEX),
                        functions.col(ImageTable.IMAGE), functions.col(ImageTable.MASK),
                        functions.col(ImageTable.SOURCE_PATH), rankSite).javaRDD()
                .mapToPair(r -> new Tuple2<>(new TrainingExamples.Row(r.getString(0), r.getInt(1), (byte[]) r.get(2),
                        lesions && !r.isNullAt(3) ? LesionBox.of(ImageCodec.decodePng((byte[]) r.get(3))) : null),
                        ranks.value().get(rankKey(r.getString(5), r.getString(0), r.getString(4)))))
                .persist(StorageLevel.DISK_ONLY());
        JavaRDD<TrainingExamples.Row> trainRows = indexedTrainRows.keys();
        // Validation images are cached as their PNG bytes, a third of their pixels' size, and decoded per epoch.
        JavaRDD<TrainingExamples.Row> validationRows = ImageSources.forTraining(spark, data, Splits.VALIDATION, heldOut)
                .select(ImageTable.IMAGE_ID, ImageTable.LABEL_INDEX, ImageTable.IMAGE).javaRDD()
                .map(r -> new TrainingExamples.Row(r.getString(0), r.getInt(1), (byte[]) r.get(2), null))
                .persist(StorageLevel.DISK_ONLY());
        JavaRDD<ImageInput> validation = validationRows.map(TrainJob::plain);
        // Train accuracy is measured on the unaugmented images, decoded from the already cached training rows.
        JavaRDD<ImageInput> trainPlain = trainRows.map(TrainJob::plain);
        try {
            Map<String, Long> perSplit = countBy(ImageSources.forTraining(spark, data, null, heldOut), ImageTable.SPLIT);
            Map<String, Map<String, Long>> perSiteClass = countBySiteAndLabel(trainRowsDf);
            Map<String, Long> perSite = new TreeMap<>();
            Map<String, Long> perClass = new TreeMap<>();
            perSiteClass.forEach((site, counts) -> counts.forEach((label, n) -> {
                perSite.merge(site, n, Long::sum);
                perClass.merge(label, n, Long::sum);
            }));
            List<String> absent = modelCfg.classes().stream().filter(c -> !perClass.containsKey(c)).toList();
            long trainCount = perSplit.getOrDefault(Splits.TRAIN, 0L);
            long validationCount = perSplit.getOrDefault(Splits.VALIDATION, 0L);
            if (trainCount == 0) {
                throw new IllegalArgumentException("The dataset at " + data + " has no training images"
                        + (heldOut == null ? "" : " outside the held-out site " + heldOut));
            }
            progress.stage(String.format("%d training and %d validation images; classes %s%s%s", trainCount,
                    validationCount, perClass, absent.isEmpty() ? "" : "; no training images of " + absent,
                    heldOut == null ? "" : "; site " + heldOut + " held out"));
            progress.stage("training images per site " + perSite + (balanced ? "; site-balanced: "
                    + drawsPerSite(trainCount, perSite.size()) + " draws of each site per epoch" : ""));

            Preprocessor pre = new Preprocessor(modelCfg.inputSize(), modelCfg.channels());
            Normalization split = normalization(trainRows, pre);
            Normalization norm = config.augment().perImageNormalization() ? split.perImageInstead()
                    : config.augment().imageNetNormalization() ? Normalization.IMAGENET : split;
            progress.stage(String.format("train split: pixel mean %.4f, std %.4f; inputs normalised by %s", split.mean(),
                    split.std(), norm.perImage() ? "each image's own mean and std"
                            : norm.equals(Normalization.IMAGENET) ? "ImageNet's (mean 0.449, std 0.226)" : "these"));

            // With site balancing the loss sees each site's classes in that site's share of the epoch, not in its
            // share of the images: the weights follow the expected class counts of the balanced draw.
            double[] weights = classWeights(trainCfg, modelCfg.classes(),
                    balanced ? balancedClassCounts(perSiteClass) : asDoubles(perClass));
            if (weights != null) {
                progress.stage("class weights of the loss " + java.util.Arrays.stream(weights)
                        .mapToObj(w -> String.format("%.3f", w)).toList() + " for " + modelCfg.classes()
                        + (balanced ? " (from the site-balanced draw)" : "")
                        + (absent.isEmpty() ? "" : "; " + absent + " absent from training, weight unused"));
            }
            java.util.Optional<Checkpoints.Restored> restored = resume ? Checkpoints.latest(storage, outputUri)
                    : java.util.Optional.empty();
            ComputationGraph graph;
            ModelCard.InitialWeights initialWeights;
            if (restored.isPresent()) {
                graph = TrainedModel.fromZip(restored.get().model(), true);
                initialWeights = restored.get().state().initialWeights();
            } else {
                graph = ResNetBuilder.build(modelCfg, trainCfg, weights);
                initialWeights = modelCfg.pretrainedUri() == null ? null
                        : PretrainedWeights.load(storage, modelCfg.pretrainedUri(), graph, modelCfg);
                if (initialWeights != null) {
                    progress.stage(String.format("starting from the %s weights %s (SHA-256 %s…), %s", initialWeights.format(),
                            initialWeights.uri(), initialWeights.sha256().substring(0, 12), initialWeights.headLoaded()
                                    ? "head included" : "a fresh head for " + modelCfg.classes()));
                }
            }
            progress.stage(String.format("%s, width x%.2f, input %dx%dx%d: %,d parameters", modelCfg.architecture(),
                    modelCfg.widthMultiplier(), modelCfg.channels(), modelCfg.inputSize(), modelCfg.inputSize(),
                    graph.numParams()));
            LossMeter lossMeter = new LossMeter(jsc);
            ParameterAveragingTrainingMaster master = new ParameterAveragingTrainingMaster.Builder(
                    trainCfg.workers() == 0 ? null : trainCfg.workers(), 1)
                    .batchSizePerWorker(trainCfg.batchSizePerWorker())
                    .averagingFrequency(trainCfg.averagingFrequency())
                    .workerPrefetchNumBatches(0)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .storageLevel(StorageLevel.fromString(trainCfg.storageLevel()))
                    .rngSeed(trainCfg.seed())
                    .trainingHooks(trainCfg.oneDnnConvolutions()
                            ? List.of(OneDnnLayers.installer(threadsPerWorker(jsc)), lossMeter) : List.of(lossMeter))
                    .build();
            SparkComputationGraph sparkGraph = new SparkComputationGraph(jsc, graph, master);
            int roundSize = (trainCfg.workers() == 0 ? jsc.defaultParallelism() : trainCfg.workers())
                    * trainCfg.batchSizePerWorker() * trainCfg.averagingFrequency();
            TrainingExamples examples = new TrainingExamples(new Augmenter(config.augment(), modelCfg.inputSize()),
                    pre, norm, modelCfg.numClasses(), trainCfg.seed());

            List<EpochRecord> history = new ArrayList<>();
            byte[] bestZip = null;
            Map<String, Object> bestMetrics = Map.of();
            int bestEpoch = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            int averageFrom = trainCfg.averageLastEpochs() == 0 ? Integer.MAX_VALUE
                    : trainCfg.epochs() - trainCfg.averageLastEpochs() + 1;
            WeightAverage average = new WeightAverage();
            int first = 1;
            if (restored.isPresent()) {
                Checkpoints.State s = restored.get().state();
                first = s.epoch() + 1;
                bestEpoch = s.bestEpoch();
                bestScore = s.bestScore();
                bestMetrics = s.bestMetrics();
                bestZip = restored.get().best();
                if (s.averagedEpochs() > 0) {
                    average = new WeightAverage(TrainedModel.fromZip(restored.get().average(), false).params(),
                            s.averagedEpochs());
                }
                history.addAll(readHistory(storage, outputUri).stream().filter(r -> r.epoch() <= s.epoch()).toList());
                progress.stage("resuming after epoch " + s.epoch() + " from " + Storage.child(outputUri, Checkpoints.DIR)
                        + " (best so far: epoch " + bestEpoch + ")");
            } else if (resume) {
                progress.stage("no complete checkpoint under " + outputUri + ": starting from epoch 1");
            }
            for (int epoch = first; epoch <= trainCfg.epochs(); epoch++) {
                long start = System.nanoTime();
                final int ep = epoch;
                // The epoch's rate is set as a fixed rate: dl4j-spark's workers train on a clone of the configuration,
                // and ComputationGraphConfiguration.clone() drops the epoch count, so an epoch-keyed schedule would
                // stay at its epoch-0 value on every worker (it did: the first warm-up rate for the whole run).
                double learningRate = LearningRates.at(trainCfg, epoch - 1);
                LearningRates.set(sparkGraph.getNetwork(), trainCfg, epoch - 1);
                // One averaging round per fit: dl4j-spark's own cutting of a whole epoch reads every example once
                // per round (EpochSplits).
                EpochSplits splits = balanced
                        ? EpochSplits.siteBalanced(perSite.values().stream().mapToInt(Math::toIntExact).toArray(),
                                roundSize, trainCfg.seed(), epoch)
                        : new EpochSplits(Math.toIntExact(trainCount), roundSize, trainCfg.seed(), epoch);
                JavaRDD<TrainingExamples.Row> byRound = splits.byRound(indexedTrainRows, TrainingExamples.Row::copy);
                for (int round = 0; round < splits.rounds(); round++) {
                    // Kept for the saved model and checkpoints (workers do not see it); dl4j-spark counts every fit
                    // as an epoch, so it is set again before each round.
                    sparkGraph.getNetwork().getConfiguration().setEpochCount(epoch - 1);
                    sparkGraph.fit(EpochSplits.round(byRound, round).mapPartitions(rows -> examples.epoch(rows, ep)));
                }
                double trainSeconds = (System.nanoTime() - start) / 1e9;
                double trainLoss = lossMeter.takeMean();
                ComputationGraph net = sparkGraph.getNetwork();

                // Shared once for both passes; with a local master the tasks copy this network, which is neither
                // serialised nor restored (two restores cost about 0.7 s an epoch of the recipe).
                Metrics val;
                double trainAccuracy = Double.NaN;
                int every = trainCfg.trainAccuracyEvery();
                boolean measureTrain = every > 0 && (epoch % every == 0 || epoch == trainCfg.epochs());
                try (Predictor.SharedModel shared = Predictor.share(jsc, net, () -> TrainedModel.toZip(net, false))) {
                    val = validationCount == 0 ? null : evaluate(validation, shared, pre, norm, modelCfg.classes());
                    if (measureTrain) {
                        trainAccuracy = evaluate(trainPlain, shared, pre, norm, modelCfg.classes()).accuracy();
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                EpochRecord rec = new EpochRecord(epoch, trainLoss, trainAccuracy, val == null ? Double.NaN : val.averageLoss(),
                        val == null ? Double.NaN : val.accuracy(), val == null ? Double.NaN : val.macroF1(),
                        learningRate, trainCount / trainSeconds, seconds);
                history.add(rec);
                // Without a validation split the last epoch is kept; ties go to the later epoch.
                double score = val == null ? epoch : val.macroF1();
                if (score >= bestScore) {
                    bestScore = score;
                    bestEpoch = epoch;
                    bestMetrics = val == null ? Map.of() : metricsSummary(val);
                    bestZip = TrainedModel.toZip(net, true);
                }
                if (epoch >= averageFrom) {
                    average.add(net.params());
                }
                String backbone = !trainCfg.backboneScheduled() ? ""
                        : epoch <= trainCfg.freezeEpochs() ? " (backbone frozen)"
                        : String.format(" (backbone %.2e)", LearningRates.backboneAt(trainCfg, epoch - 1));
                progress.stage(String.format("epoch %d/%d  lr %.2e%s  train loss %.4f  train acc %.3f  val loss %.4f  "
                                + "val acc %.3f  val macro-F1 %.3f  %.1f img/s  %.1f s%s", epoch, trainCfg.epochs(),
                        learningRate, backbone, trainLoss, trainAccuracy,
                        rec.validationLoss(), rec.validationAccuracy(), rec.validationMacroF1(), rec.imagesPerSecond(), seconds,
                        bestEpoch == epoch ? "  (best)" : ""));
                writeHistory(storage, outputUri, history);
                if (trainCfg.checkpointEvery() > 0 && epoch % trainCfg.checkpointEvery() == 0) {
                    byte[] current = TrainedModel.toZip(net, true);
                    byte[] averageZip = average.count() == 0 ? null : TrainedModel.toZip(average.applyTo(net), false);
                    Checkpoints.save(storage, outputUri, new Checkpoints.State(epoch, bestEpoch, bestScore, bestMetrics,
                            current.length, bestZip.length, trainCfg.seed(), average.count(),
                            averageZip == null ? 0 : averageZip.length, initialWeights), current, bestZip, averageZip);
                }
                int patience = trainCfg.earlyStoppingPatience();
                if (patience > 0 && val != null && epoch - bestEpoch >= patience && epoch < trainCfg.epochs()) {
                    progress.stage("early stop: validation macro-F1 has not improved for " + patience
                            + " epochs since epoch " + bestEpoch);
                    break;
                }
            }

            ModelCard.TrainingData trainingData = new ModelCard.TrainingData(data, perSplit, perClass,
                    fingerprint(trainKeys), perSite, perSiteClass);
            TrainedModel bestModel = new TrainedModel(TrainedModel.fromZip(bestZip, true),
                    card(config, norm, graph.numParams(), bestEpoch, trainingData, bestMetrics, initialWeights));
            String modelDir = Storage.child(outputUri, ModelStore.MODEL_DIR);
            if (average.count() == 0) {
                ModelStore.save(storage, modelDir, bestModel);
                progress.done("model of epoch " + bestEpoch + " written to " + modelDir);
                return bestModel;
            }
            // The best epoch's model stays beside the average, so the two choices can be compared on a test split.
            String bestDir = Storage.child(outputUri, BEST_EPOCH_MODEL_DIR);
            ModelStore.save(storage, bestDir, bestModel);
            int last = history.get(history.size() - 1).epoch();
            ComputationGraph averaged = average.applyTo(sparkGraph.getNetwork());
            Map<String, Object> averagedMetrics = Map.of();
            if (validationCount > 0) {
                try (Predictor.SharedModel shared = Predictor.share(jsc, averaged,
                        () -> TrainedModel.toZip(averaged, false))) {
                    averagedMetrics = metricsSummary(evaluate(validation, shared, pre, norm, modelCfg.classes()));
                }
            }
            progress.stage(String.format("average of epochs %d-%d: val macro-F1 %.3f (best single epoch %d: %.3f)",
                    last - average.count() + 1, last, averagedMetrics.getOrDefault("macroF1", Double.NaN), bestEpoch,
                    bestMetrics.getOrDefault("macroF1", Double.NaN)));
            TrainedModel model = new TrainedModel(averaged,
                    card(config, norm, graph.numParams(), last, trainingData, averagedMetrics, initialWeights));
            ModelStore.save(storage, modelDir, model);
            progress.done("average of the last " + average.count() + " epochs written to " + modelDir
                    + "; epoch " + bestEpoch + " (best on validation) to " + bestDir);
            return model;
        } finally {
            indexedTrainRows.unpersist(false);
            ranks.destroy(false);
            validationRows.unpersist(false);
        }
    }

    /** @param epoch the epoch whose weights are kept, or the last one averaged */
    private static ModelCard card(BusiConfig config, Normalization norm, long parameters, int epoch,
                                  ModelCard.TrainingData data, Map<String, Object> validationMetrics,
                                  ModelCard.InitialWeights initialWeights) {
        BusiConfig.Model m = config.model();
        return new ModelCard(ModelCard.FORMAT_VERSION, "busi-" + m.architecture(), m.classes(), m.inputSize(),
                m.channels(), norm, m.architecture(), m.widthMultiplier(), parameters, epoch, config.train(),
                config.augment(), data, validationMetrics, BuildInfo.version(), Instant.now().toString(), initialWeights);
    }

    /**
     * Cores each training worker may use: with a local master all of them (workers of one round seldom compute at
     * the same moment; on 2 cores two workers of 2 threads train at 61 images/s, of 1 thread at 49,
     * docs/benchmarks.md), on a cluster Spark's cores per task ({@code spark.task.cpus}).
     */
    static int threadsPerWorker(JavaSparkContext jsc) {
        return jsc.isLocal() ? Runtime.getRuntime().availableProcessors() : jsc.getConf().getInt("spark.task.cpus", 1);
    }

    /**
     * "balanced": n / (k · n_c) per class, so every class weighs as much in the loss, and the weights average 1
     * over the training examples. k counts the classes present: a class with no training images (a site without
     * normal images) never occurs in the labels, so its weight (1) never enters the loss.
     *
     * @param trainPerClass the training images per class, or their expected count per epoch
     */
    static double[] classWeights(BusiConfig.Train cfg, List<String> classes, Map<String, Double> trainPerClass) {
        if (!cfg.classWeights().equals("balanced")) {
            return null;
        }
        double total = trainPerClass.values().stream().mapToDouble(Double::doubleValue).sum();
        long present = classes.stream().filter(c -> trainPerClass.getOrDefault(c, 0.0) > 0).count();
        double[] w = new double[classes.size()];
        for (int c = 0; c < w.length; c++) {
            double n = trainPerClass.getOrDefault(classes.get(c), 0.0);
            w[c] = n == 0 ? 1.0 : total / (present * n);
        }
        return w;
    }

    /**
     * The expected images per class in a site-balanced epoch: every site fills an equal share of the epoch, in
     * its own class proportions.
     */
    static Map<String, Double> balancedClassCounts(Map<String, Map<String, Long>> perSiteClass) {
        long total = perSiteClass.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
        double share = (double) total / perSiteClass.size();
        Map<String, Double> out = new TreeMap<>();
        perSiteClass.values().forEach(counts -> {
            long site = counts.values().stream().mapToLong(Long::longValue).sum();
            counts.forEach((label, n) -> out.merge(label, share * n / site, Double::sum));
        });
        return out;
    }

    private static Map<String, Double> asDoubles(Map<String, Long> counts) {
        Map<String, Double> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.doubleValue()));
        return out;
    }

    /** Each site's draws per site-balanced epoch: the same, but for one more to some when they do not divide. */
    private static String drawsPerSite(long rows, int sites) {
        long share = rows / sites;
        return rows % sites == 0 ? String.valueOf(share) : share + "-" + (share + 1);
    }

    private static Metrics evaluate(JavaRDD<ImageInput> inputs, Predictor.SharedModel model, Preprocessor pre,
                                    Normalization norm, List<String> classes) {
        int k = classes.size();
        MetricsAccumulator acc = Predictor.predict(inputs, model, pre, norm, false)
                .treeAggregate(new MetricsAccumulator(k), MetricsAccumulator::add, MetricsAccumulator::merge);
        return Metrics.from(acc, classes);
    }

    /** Mean and std of the preprocessed (unaugmented) training pixels, computed in one distributed pass. */
    private static Normalization normalization(JavaRDD<TrainingExamples.Row> rows, Preprocessor pre) {
        double[] moments = rows.map(r -> {
            float[] plane = pre.plain(ImageCodec.decodePng(r.png()));
            double[] m = Normalization.moments(plane);
            return new double[] {m[0], m[1], plane.length};
        }).reduce((a, b) -> new double[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]});
        return Normalization.fromMoments(moments[0], moments[1], (long) moments[2]);
    }

    /** Each training row's rank in {@code sortedKeys}, from 0. */
    private static Map<String, Long> ranks(List<String> sortedKeys) {
        Map<String, Long> rank = new HashMap<>();
        for (int i = 0; i < sortedKeys.size(); i++) {
            rank.put(sortedKeys.get(i), (long) i);
        }
        return rank;
    }

    /** A row's sort key: its site when balancing ("" otherwise), then its image id (a hex content hash). */
    private static String rankKey(String site, String imageId, String sourcePath) {
        return site + '\u0000' + imageId + '\u0000' + sourcePath;
    }

    /**
     * Order-independent fingerprint of the training image ids (from the rank keys the driver holds): their count
     * and the sum of their 64-bit prefixes.
     */
    private static String fingerprint(List<String> trainKeys) {
        long sum = trainKeys.stream().mapToLong(k -> {
            int id = k.indexOf('\u0000') + 1;
            return Long.parseUnsignedLong(k.substring(id, id + 16), 16);
        }).sum();
        return trainKeys.size() + ":" + Long.toHexString(sum);
    }

    /** Training images per site (unnamed: "") and class, both sorted. */
    private static Map<String, Map<String, Long>> countBySiteAndLabel(Dataset<Row> rows) {
        Map<String, Map<String, Long>> out = new TreeMap<>();
        for (Row r : rows.groupBy(SITE, functions.col(ImageTable.LABEL)).count().collectAsList()) {
            out.computeIfAbsent(r.getString(0), s -> new TreeMap<>()).put(r.getString(1), r.getLong(2));
        }
        return out;
    }

    private static Map<String, Long> countBy(Dataset<Row> rows, String column) {
        Map<String, Long> out = new TreeMap<>();
        for (Row r : rows.groupBy(column).count().collectAsList()) {
            out.put(String.valueOf(r.get(0)), r.getLong(1));
        }
        return out;
    }

    static Map<String, Object> metricsSummary(Metrics m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("accuracy", m.accuracy());
        out.put("averageLoss", m.averageLoss());
        out.put("macroF1", m.macroF1());
        out.put("count", m.count());
        return out;
    }

    /** The epochs recorded under a training output ({@code history/epochs.jsonl}); empty when there is none. */
    public static List<EpochRecord> readHistory(Storage storage, String outputUri) {
        String uri = Storage.child(outputUri, HISTORY_FILE);
        List<EpochRecord> out = new ArrayList<>();
        if (storage.exists(uri)) {
            for (String line : storage.readText(uri).split("\n")) {
                if (!line.isBlank()) {
                    out.add(Json.read(line, EpochRecord.class));
                }
            }
        }
        return out;
    }

    private static void writeHistory(Storage storage, String outputUri, List<EpochRecord> history) {
        StringBuilder lines = new StringBuilder();
        for (EpochRecord r : history) {
            lines.append(Json.compact(r)).append('\n');
        }
        storage.writeText(Storage.child(outputUri, HISTORY_FILE), lines.toString());
    }

    private static ImageInput plain(TrainingExamples.Row r) {
        return new ImageInput(null, r.imageId(), r.labelIndex(), ImageCodec.decodePng(r.png()), null, null, Origin.UNKNOWN);
    }
}
