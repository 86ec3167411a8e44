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
 */
public record IngestReport(String runId, String input, long seen, long accepted, long quarantined, long skipped,
                           Map<String, Long> acceptedPerClass, Map<String, Long> acceptedPerSplit,
                           Map<String, Long> quarantinedByReason, Map<String, Long> skippedByReason,
                           int nearDuplicateDistance, String labelConflictPolicy, BusiConfig.Split splitFractions,
                           long splitSeed, int duplicateGroupCount, List<DatasetPlanner.Group> duplicateGroups,
                           List<DatasetPlanner.Group> labelConflicts, Map<String, Map<String, Long>> datasetPerSplit) {

    public static final String ALREADY_INGESTED = "already-ingested";

    /** The key {@link #build} counts by: status, label, and the split (accepted) or the reason (others). */
    static String countKey(IngestRules.Outcome o, String split) {
        String last = o.status() == IngestRules.Status.ACCEPTED ? split : o.reason();
        return o.status() + "|" + (o.label() == null ? "" : o.label()) + "|" + last;
    }

    static IngestReport build(String runId, String input, Map<String, Long> counts, BusiConfig.Ingest cfg,
                              DatasetPlanner.Plan plan, Map<String, Map<String, Long>> datasetPerSplit) {
        long accepted = 0, quarantined = 0, skipped = 0;
        Map<String, Long> perClass = new TreeMap<>(), perSplit = new TreeMap<>(), qReasons = new TreeMap<>(),
                sReasons = new TreeMap<>();
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            String[] k = e.getKey().split("\\|", -1);
            long n = e.getValue();
            switch (IngestRules.Status.valueOf(k[0])) {
                case ACCEPTED -> {
                    accepted += n;
                    perClass.merge(k[1], n, Long::sum);
                    perSplit.merge(k[2], n, Long::sum);
                }
                case QUARANTINED -> {
                    quarantined += n;
                    qReasons.merge(k[2], n, Long::sum);
                }
                case SKIPPED -> {
                    skipped += n;
                    sReasons.merge(k[2], n, Long::sum);
                }
            }
        }
        return new IngestReport(runId, input, accepted + quarantined + skipped, accepted, quarantined, skipped,
                perClass, perSplit, qReasons, sReasons, cfg.nearDuplicateDistance(), cfg.labelConflicts(),
                cfg.split(), cfg.seed(), plan.duplicateGroups().size(), plan.duplicateGroups(), plan.labelConflicts(),
                datasetPerSplit);
    }
}
