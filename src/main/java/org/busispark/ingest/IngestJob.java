package org.busispark.ingest;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.busispark.config.BusiConfig;
import org.busispark.model.Origin;
import org.busispark.storage.HadoopConf;
import org.busispark.storage.Json;
import org.busispark.storage.ParquetFiles;
import org.busispark.storage.Progress;
import org.busispark.storage.Storage;
import scala.Tuple2;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * {@code busi ingest}: lists and decodes every file under the input in parallel, groups exact and near
 * duplicates, splits the groups stratified by label, and commits the new images as one run of the dataset.
 * Re-running over the same input adds nothing; new files are added without touching old rows. Image bytes
 * never reach the driver, only metadata (ids, labels, hashes) does.
 */
public final class IngestJob {
    private static final DateTimeFormatter RUN_ID = DateTimeFormatter.ofPattern("'r'yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private IngestJob() {}

    /**
     * Lists and resolves every file of every source (a folder tree, or a CSV manifest) for the dataset: masks
     * merged into their images, the dataset's PNG and the perceptual hash made, each file tagged with its source's
     * site. The caller persists the outcomes.
     */
    static JavaRDD<IngestRules.Outcome> forDataset(SparkSession spark, List<BusiConfig.Source> sources,
                                                   BusiConfig config) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<IngestRules.Outcome> all = null;
        for (BusiConfig.Source source : sources) {
            JavaRDD<IngestRules.Outcome> one = forSource(spark, jsc, source, config);
            all = all == null ? one : all.union(one);
        }
        if (all == null) {
            throw new IllegalArgumentException("No input: pass --input URI (or NAME=URI, repeatable) or set "
                    + "busi.ingest.sources");
        }
        return all;
    }

    private static JavaRDD<IngestRules.Outcome> forSource(SparkSession spark, JavaSparkContext jsc,
                                                          BusiConfig.Source source, BusiConfig config) {
        List<String> classes = config.model().classes();
        String input = source.uri();
        Origin site = Origin.ofSite(source.site());
        if (ManifestSource.isManifest(input)) {
            return resolveGroups(jsc, ManifestSource.refs(spark, input, source.manifest(), source.site(), classes),
                    config, true, true);
        }
        if (source.manifest() != null) {
            throw new IllegalArgumentException("Source '" + source.site() + "' has a manifest mapping but its uri "
                    + input + " is not a CSV file");
        }
        FileListing.Listing listing = FileListing.list(jsc, input);
        if (listing.distributed() != null) {
            return resolveGroups(jsc, listing.distributed().mapToPair(f -> folderRef(f, classes, true, site)), config,
                    true, true);
        }
        // Listed by the driver: it groups the paths too, and the groups go to the tasks without a shuffle.
        Map<String, List<IngestRules.SourceRef>> groups = new LinkedHashMap<>();
        for (String[] f : listing.onDriver()) {
            Tuple2<String, IngestRules.SourceRef> ref = folderRef(f, classes, true, site);
            groups.computeIfAbsent(ref._1(), k -> new ArrayList<>()).add(ref._2());
        }
        return resolve(jsc, jsc.parallelize(new ArrayList<>(groups.values()), slices(jsc)), config, true, true);
    }

    /**
     * For scoring and evaluation: the files under {@code input} whose path {@code keep} accepts (the others are
     * dropped unread), each decoded to its image; masks are skipped unread.
     */
    static JavaRDD<IngestRules.Outcome> forPrediction(SparkSession spark, String input, String site,
                                                      BusiConfig config, boolean requireLabel,
                                                      ImageSources.PathFilter keep) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        if (ManifestSource.isManifest(input)) {
            // A CSV is read with the mapping of the configured source of the same site, if there is one.
            BusiConfig.Manifest mapping = IngestSources.mapping(site, config.ingest().sources());
            return resolveGroups(jsc, ManifestSource.refs(spark, input, mapping, site, config.model().classes())
                            .filter(ref -> keep.keep(ref._2().path())), config, requireLabel, false);
        }
        Origin origin = Origin.ofSite(site);
        // Every file stands alone: no grouping, no shuffle.
        List<String> classes = config.model().classes();
        BusiConfig.Ingest settings = config.ingest();
        HadoopConf conf = HadoopConf.of(jsc);
        return FileListing.listOnDriver(jsc, input, slices(jsc)).filter(f -> keep.keep(f[0])).flatMap(f -> {
            IngestRules.SourceRef ref = folderRef(f, classes, false, origin)._2();
            return IngestRules.resolve(List.of(ref.read(conf.value(), settings.maxFileBytes())), settings,
                    requireLabel, false).iterator();
        });
    }

    private static int slices(JavaSparkContext jsc) {
        return Math.max(1, jsc.defaultParallelism() * 4);
    }

    /** Only paths are shuffled to bring an image and its masks together; bytes are read after. */
    private static JavaRDD<IngestRules.Outcome> resolveGroups(JavaSparkContext jsc,
                                                              JavaPairRDD<String, IngestRules.SourceRef> refs,
                                                              BusiConfig config, boolean requireLabel,
                                                              boolean forDataset) {
        return resolve(jsc, refs.groupByKey(slices(jsc)).map(Tuple2::_2), config, requireLabel, forDataset);
    }

    /** Reads each group's files (an image and its masks) in the task and resolves them together. */
    private static JavaRDD<IngestRules.Outcome> resolve(JavaSparkContext jsc,
                                                        JavaRDD<? extends Iterable<IngestRules.SourceRef>> groups,
                                                        BusiConfig config, boolean requireLabel, boolean forDataset) {
        BusiConfig.Ingest settings = config.ingest();
        HadoopConf conf = HadoopConf.of(jsc);
        return groups.flatMap(group -> {
            List<IngestRules.SourceFile> parts = new ArrayList<>();
            group.forEach(ref -> parts.add(ref.read(conf.value(), settings.maxFileBytes())));
            return IngestRules.resolve(parts, settings, requireLabel, forDataset).iterator();
        });
    }

    /** A listed (path, length) of a folder tree, keyed by the group it belongs to (an image and its masks). */
    private static Tuple2<String, IngestRules.SourceRef> folderRef(String[] f, List<String> classes, boolean forDataset,
                                                                   Origin site) {
        SourceLayout.Entry classified = SourceLayout.classify(f[0], classes);
        SourceLayout.Entry entry = forDataset || classified.kind() != SourceLayout.Kind.MASK ? classified
                : new SourceLayout.Entry(SourceLayout.Kind.SKIPPED, null, classified.label(), IngestRules.MASK_UNUSED);
        String key = entry.kind() == SourceLayout.Kind.SKIPPED ? "skipped:" + f[0] : entry.groupKey();
        return new Tuple2<>(key, new IngestRules.SourceRef(f[0], Long.parseLong(f[1]), entry, site, null, null));
    }

    /** Ingests one folder tree or manifest as one site, named after its folder ({@link IngestSources#named}). */
    public static IngestReport run(SparkSession spark, BusiConfig config, String input, String output) {
        return run(spark, config, List.of(IngestSources.named(input, null)), output);
    }

    public static IngestReport run(SparkSession spark, BusiConfig config, List<BusiConfig.Source> sources,
                                   String output) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Storage storage = new Storage(jsc.hadoopConfiguration());
        Progress progress = new Progress("ingest");
        String runId = RUN_ID.format(Instant.now()) + "-" + UUID.randomUUID().toString().substring(0, 6);
        String imagesDir = Storage.child(output, ImageTable.IMAGES_DIR);
        String input = IngestSources.describe(sources);
        progress.stage("listing and decoding " + input);
        JavaRDD<IngestRules.Outcome> outcomes = forDataset(spark, sources, config)
                .map(IngestRules.Outcome::withoutPixels)
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            // Every file's metadata (no pixels, no bytes) comes to the driver once: the plan, the counts and the
            // quarantine table are made from it there, without further Spark jobs.
            List<IngestRules.Outcome> all = outcomes.map(IngestRules.Outcome::withoutBytes).collect();
            List<DatasetPlanner.NewImage> accepted = all.stream()
                    .filter(o -> o.status() == IngestRules.Status.ACCEPTED)
                    .map(o -> new DatasetPlanner.NewImage(o.sourcePath(), o.imageId(), o.label(), o.origin().site(),
                            o.origin().patientId()))
                    .toList();
            Dataset<Row> existing = storage.exists(imagesDir) ? ImageSources.ingested(spark, output, null) : null;
            List<DatasetPlanner.OldImage> old = existing == null ? List.of() : existing
                    .select(ImageTable.IMAGE_ID, ImageTable.LABEL, ImageTable.SPLIT, ImageTable.DUP_GROUP,
                            ImageTable.SITE, ImageTable.PATIENT_ID)
                    .collectAsList().stream().map(r -> new DatasetPlanner.OldImage(r.getString(0), r.getString(1),
                            r.getString(2), r.getString(3), r.getString(4), r.getString(5))).toList();
            Set<String> known = existing == null ? Set.of() : new HashSet<>(existing
                    .selectExpr("concat(" + ImageTable.SOURCE_PATH + ", '|', " + ImageTable.IMAGE_ID + ")")
                    .as(Encoders.STRING()).collectAsList());
            List<DatasetPlanner.NewImage> fresh = accepted.stream()
                    .filter(n -> !known.contains(n.sourcePath() + "|" + n.imageId())).toList();
            progress.stage(String.format("%d images decoded (%.0f images/s), %d of them new; %d already in the dataset",
                    accepted.size(), accepted.size() / progress.elapsedSeconds(), fresh.size(), old.size()));

            // The hashes are among the metadata the driver holds: sent from there, the join does not read the
            // cached blobs again, and runs as one task per core.
            JavaPairRDD<String, Long> hashes = jsc.parallelizePairs(all.stream()
                    .filter(o -> o.status() == IngestRules.Status.ACCEPTED)
                    .map(o -> new Tuple2<>(o.imageId(), o.phash())).toList(), jsc.defaultParallelism());
            if (existing != null) {
                hashes = hashes.union(existing.select(ImageTable.IMAGE_ID, ImageTable.PHASH).javaRDD()
                        .mapToPair(r -> new Tuple2<>(r.getString(0), r.getLong(1))));
            }
            int distance = config.ingest().nearDuplicateDistance();
            List<String[]> edges = NearDuplicates.edges(hashes, distance);
            DatasetPlanner.Plan plan = DatasetPlanner.plan(fresh, old, edges, config.ingest());
            progress.stage(String.format("%d near-duplicate pairs within %d bits; %d duplicate groups, %d with "
                    + "conflicting labels (%s)", edges.size(), distance, plan.duplicateGroups().size(),
                    plan.labelConflicts().size(), config.ingest().labelConflicts()));

            Map<String, DatasetPlanner.Assignment> bySource = plan.bySourcePath();
            List<IngestRules.Outcome> decided = all.stream().map(o -> decide(o, bySource)).toList();
            Map<String, Long> counts = decided.stream().collect(Collectors.groupingBy(
                    o -> IngestReport.countKey(o, split(o, bySource)), TreeMap::new, Collectors.counting()));

            String runFolder = ImageTable.INGEST_RUN + "=" + runId;
            String quarantine = Storage.child(Storage.child(output, ImageTable.QUARANTINE_DIR), runFolder);
            String staging = storage.stagingFor(quarantine);
            QuarantineWriter.write(jsc.hadoopConfiguration(), staging,
                    decided.stream().filter(o -> o.status() == IngestRules.Status.QUARANTINED).toList());
            storage.commitFolder(staging, quarantine);
            progress.stage("quarantine table written");
            Broadcast<Map<String, DatasetPlanner.Assignment>> assignments = jsc.broadcast(bySource);
            if (!fresh.isEmpty()) {
                String target = Storage.child(imagesDir, runFolder);
                String imageStaging = storage.stagingFor(target);
                // Files of at most about FILE_BYTES, written by a multiple of the cores' count of tasks: fewer,
                // larger files than the decoding's partitions, less per-task overhead (cached partitions merge,
                // no shuffle), and no last task running alone.
                Set<String> freshPaths = fresh.stream().map(DatasetPlanner.NewImage::sourcePath).collect(Collectors.toSet());
                long bytes = all.stream().filter(o -> freshPaths.contains(o.sourcePath()))
                        .mapToLong(IngestRules.Outcome::size).sum();
                int cores = jsc.defaultParallelism();
                int writers = cores * (int) Math.max(1, Math.ceil(bytes / ((double) ImageTable.FILE_BYTES * cores)));
                List<String> files = outcomes.coalesce(Math.min(writers, outcomes.getNumPartitions()))
                        .map(o -> decide(o, assignments.value()))
                        .filter(o -> o.status() == IngestRules.Status.ACCEPTED)
                        .mapPartitions(new ImageTable.WriteTask(HadoopConf.of(jsc),
                                imageStaging, List.copyOf(config.model().classes()), ParquetFiles.micros(Instant.now()),
                                assignments))
                        .collect();
                // The commit point: one folder rename makes the whole run visible at once.
                storage.commitFolder(imageStaging, target, files);
                progress.stage(String.format("%d images written", fresh.size()));
            }
            IngestReport report = IngestReport.build(runId, input, counts, config.ingest(), plan,
                    datasetPerSite(old, fresh, plan));
            storage.writeText(Storage.child(output, ImageTable.REPORT_FILE), Json.write(report));
            storage.writeText(Storage.child(output, "reports/" + runId + ".json"), Json.write(report));
            progress.stage(String.format("seen %d files: %d accepted, %d quarantined, %d skipped",
                    report.seen(), report.accepted(), report.quarantined(), report.skipped()));
            progress.done(fresh.isEmpty() ? "nothing new to add to " + imagesDir
                    : "run " + runId + " committed to " + imagesDir);
            return report;
        } finally {
            outcomes.unpersist(false);
        }
    }

    /** Applies the plan: already-ingested images become skipped, dropped ones quarantined. */
    private static IngestRules.Outcome decide(IngestRules.Outcome o, Map<String, DatasetPlanner.Assignment> plan) {
        if (o.status() != IngestRules.Status.ACCEPTED) {
            return o;
        }
        DatasetPlanner.Assignment a = plan.get(o.sourcePath());
        if (a == null) {
            return o.decided(IngestRules.Status.SKIPPED, IngestReport.ALREADY_INGESTED,
                    "same file and content already in the dataset");
        }
        return a.dropReason() == null ? o : o.decided(IngestRules.Status.QUARANTINED, a.dropReason(),
                "duplicate group " + a.dupGroup() + " holds several labels; policy drops it");
    }

    private static String split(IngestRules.Outcome o, Map<String, DatasetPlanner.Assignment> plan) {
        DatasetPlanner.Assignment a = plan.get(o.sourcePath());
        return a == null ? null : a.split();
    }

    /** Images per site, split and label in the whole dataset after this run: the old rows plus the new ones kept. */
    private static Map<String, Map<String, Map<String, Long>>> datasetPerSite(List<DatasetPlanner.OldImage> old,
                                                                           List<DatasetPlanner.NewImage> fresh,
                                                                           DatasetPlanner.Plan plan) {
        Map<String, Map<String, Map<String, Long>>> out = new TreeMap<>();
        old.forEach(o -> count(out, o.site(), o.split(), o.label()));
        for (DatasetPlanner.NewImage n : fresh) {
            String split = plan.bySourcePath().get(n.sourcePath()).split();
            if (split != null) {
                count(out, n.site(), split, n.label());
            }
        }
        return out;
    }

    private static void count(Map<String, Map<String, Map<String, Long>>> out, String site, String split, String label) {
        out.computeIfAbsent(IngestReport.siteKey(site), k -> new TreeMap<>()).computeIfAbsent(split, k -> new TreeMap<>())
                .merge(label, 1L, Long::sum);
    }
}
