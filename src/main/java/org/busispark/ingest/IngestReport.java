package org.busispark.ingest;

import org.busispark.config.BusiConfig;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one ingest run saw and did with it. Always reconciles: {@code seen = accepted + quarantined + skipped}
 * (images already in the dataset count as skipped, reason {@code already-ingested}).
 *
 * @param acceptedPerClass    images this run added, per class
 * @param acceptedPerSplit    images this run added, per split
 * @param quarantinedByReason quarantined files per reason code
 * @param skippedByReason     skipped files per reason (hidden files, other extensions, masks merged into
 *                            their image, images already ingested)
 * @param duplicateGroups     groups of two or more images (exact or near duplicates, or one patient) that
 *                            this run touched, largest first
 * @param labelConflicts      the duplicate groups whose images carry different labels
 * @param datasetPerSplit     the whole dataset after this run: images per split and class
 * @param perSite             this run's files per site, reconciled the same way (seen, accepted, quarantined,
 *                            skipped)
 * @param datasetPerSite      the whole dataset after this run: images per site, split and class
 */
public record IngestReport(String runId, String input, long seen, long accepted, long quarantined, long skipped,
                           Map<String, Long> acceptedPerClass, Map<String, Long> acceptedPerSplit,
                           Map<String, Long> quarantinedByReason, Map<String, Long> skippedByReason,
                           int nearDuplicateDistance, String labelConflictPolicy, BusiConfig.Split splitFractions,
                           long splitSeed, int duplicateGroupCount, List<DatasetPlanner.Group> duplicateGroups,
                           List<DatasetPlanner.Group> labelConflicts, Map<String, Map<String, Long>> datasetPerSplit,
                           Map<String, Map<String, Long>> perSite,
                           Map<String, Map<String, Map<String, Long>>> datasetPerSite) {

    public static final String ALREADY_INGESTED = "already-ingested";

    /** A site's name in reports: sources without one (datasets ingested before sites existed) as "". */
    static String siteKey(String site) {
        return site == null ? "" : site;
    }

    /** The key {@link #build} counts by: status, site, label, and the split (accepted) or the reason (others). */
    static String countKey(IngestRules.Outcome o, String split) {
        String last = o.status() == IngestRules.Status.ACCEPTED ? split : o.reason();
        return o.status() + "|" + siteKey(o.origin().site()) + "|" + (o.label() == null ? "" : o.label()) + "|" + last;
    }

    static IngestReport build(String runId, String input, Map<String, Long> counts, BusiConfig.Ingest cfg,
                              DatasetPlanner.Plan plan, Map<String, Map<String, Map<String, Long>>> datasetPerSite) {
        long accepted = 0, quarantined = 0, skipped = 0;
        Map<String, Long> perClass = new TreeMap<>(), perSplit = new TreeMap<>(), qReasons = new TreeMap<>(),
                sReasons = new TreeMap<>();
        Map<String, Map<String, Long>> perSite = new TreeMap<>();
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            String[] k = e.getKey().split("\\|", -1);
            long n = e.getValue();
            IngestRules.Status status = IngestRules.Status.valueOf(k[0]);
            Map<String, Long> site = perSite.computeIfAbsent(k[1], s -> new java.util.LinkedHashMap<>(Map.of()));
            site.merge("seen", n, Long::sum);
            site.merge(status.name().toLowerCase(java.util.Locale.ROOT), n, Long::sum);
            switch (status) {
                case ACCEPTED -> {
                    accepted += n;
                    perClass.merge(k[2], n, Long::sum);
                    perSplit.merge(k[3], n, Long::sum);
                }
                case QUARANTINED -> {
                    quarantined += n;
                    qReasons.merge(k[3], n, Long::sum);
                }
                case SKIPPED -> {
                    skipped += n;
                    sReasons.merge(k[3], n, Long::sum);
                }
            }
        }
        Map<String, Map<String, Long>> datasetPerSplit = new TreeMap<>();
        datasetPerSite.values().forEach(splits -> splits.forEach((split, labels) -> labels.forEach((label, n) ->
                datasetPerSplit.computeIfAbsent(split, x -> new TreeMap<>()).merge(label, n, Long::sum))));
        return new IngestReport(runId, input, accepted + quarantined + skipped, accepted, quarantined, skipped,
                perClass, perSplit, qReasons, sReasons, cfg.nearDuplicateDistance(), cfg.labelConflicts(),
                cfg.split(), cfg.seed(), plan.duplicateGroups().size(), plan.duplicateGroups(), plan.labelConflicts(),
                datasetPerSplit, perSite, datasetPerSite);
    }
}
