package org.busispark.ingest;

import org.busispark.config.BusiConfig;

import java.util.Map;
import java.util.TreeMap;

/**
 * What ingest saw and did with it. Always reconciles: {@code seen = accepted + quarantined + skipped}.
 *
 * @param acceptedPerClass   accepted images per class
 * @param acceptedPerSplit   accepted images per split
 * @param quarantinedByReason quarantined files per reason code
 * @param skippedByReason    skipped files per reason (hidden files, other extensions, masks merged into images)
 */
public record IngestReport(String input, long seen, long accepted, long quarantined, long skipped,
                           Map<String, Long> acceptedPerClass, Map<String, Long> acceptedPerSplit,
                           Map<String, Long> quarantinedByReason, Map<String, Long> skippedByReason,
                           BusiConfig.Split splitFractions, long splitSeed) {

    /** The key {@link #fromCounts} expects: status, label, and the split (accepted) or the reason (others). */
    static String countKey(IngestRules.Outcome o) {
        String last = o.status() == IngestRules.Status.ACCEPTED ? o.split() : o.reason();
        return o.status() + "|" + (o.label() == null ? "" : o.label()) + "|" + last;
    }

    /** @param counts {@link #countKey} → count */
    static IngestReport fromCounts(String input, Map<String, Long> counts, BusiConfig config) {
        long accepted = 0, quarantined = 0, skipped = 0;
        Map<String, Long> perClass = new TreeMap<>(), perSplit = new TreeMap<>(), qReasons = new TreeMap<>(), sReasons = new TreeMap<>();
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
        return new IngestReport(input, accepted + quarantined + skipped, accepted, quarantined, skipped,
                perClass, perSplit, qReasons, sReasons, config.ingest().split(), config.ingest().seed());
    }
}
