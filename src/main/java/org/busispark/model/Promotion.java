package org.busispark.model;

import org.busispark.config.BusiConfig;

import java.time.Instant;
import java.util.Locale;

/**
 * Champion/challenger: whether a newly published version (the challenger) should replace the version that
 * {@code latest} names (the champion). Pure decisions; {@link ModelRegistry#decide} records them and moves
 * {@code latest}.
 *
 * @param decidedBy the command deciding, e.g. "busi run"
 */
public record Promotion(BusiConfig.Promotion rule, String decidedBy) {
    /** Absorbs floating-point noise, so that 0.51 against 0.50 counts as the +0.01 it is. */
    private static final double TOLERANCE = 1e-9;

    /** A model's value of the rule's metric on {@code images} test images. */
    public record Score(String version, double value, long images) {}

    /**
     * One decision, as recorded under {@code <store>/models/<name>/promotions/}. Metric fields are null when
     * nothing was measured (a first version from {@code busi train}, an unusable champion, a manual promotion).
     *
     * @param champion the version {@code latest} named when the decision was taken; null when there was none
     * @param testData the dataset and split both models were evaluated on
     */
    public record Decision(String challenger, String champion, boolean promoted, String reason, String metric,
                           Double minImprovement, Double challengerValue, Double championValue, Long testImages,
                           String testData, String decidedBy, String decidedAt) {}

    /** The challenger against the champion (null: there is none), both measured on the same test images. */
    public Decision decide(Score challenger, Score champion, String testData) {
        if (champion == null) {
            return decision(challenger.version(), null, true, "first version: there is no champion to beat",
                    challenger, null, testData);
        }
        if (champion.images() != challenger.images()) {
            throw new IllegalArgumentException("Champion " + champion.version() + " and challenger "
                    + challenger.version() + " were evaluated on different test sets (" + champion.images() + " and "
                    + challenger.images() + " images); they must be compared on the same images");
        }
        double gain = challenger.value() - champion.value();
        // NaN (e.g. a metric undefined on this split) never promotes.
        boolean promoted = gain >= rule.minImprovement() - TOLERANCE;
        String reason = String.format(Locale.ROOT, "%s %.4f against the champion's %.4f on the same %d test images: "
                        + "%+.4f, %s the required %+.4f", rule.metric(), challenger.value(), champion.value(),
                challenger.images(), gain, promoted ? "at least" : "short of", rule.minImprovement());
        return decision(challenger.version(), champion.version(), promoted, reason, challenger, champion, testData);
    }

    /**
     * A challenger that could not be compared: promoted only when there is no champion, since replacing a
     * champion needs evidence. {@code why} says what was missing.
     */
    public Decision unmeasured(String challenger, String champion, String why) {
        boolean first = champion == null;
        String reason = first ? "first version: there is no champion to beat"
                : why + "; the champion " + champion + " stays (compare them with `busi run`, or move latest with "
                + "`busi promote`)";
        return decision(challenger, champion, first, reason, null, null, null);
    }

    /** An operator's promotion: no metric, the operator's reason. */
    public Decision manual(String version, String champion, String reason) {
        return new Decision(version, champion, true, reason, null, null, null, null, null, null, decidedBy,
                Instant.now().toString());
    }

    private Decision decision(String challenger, String champion, boolean promoted, String reason, Score challengerScore,
                              Score championScore, String testData) {
        return new Decision(challenger, champion, promoted, reason, rule.metric(), rule.minImprovement(),
                challengerScore == null ? null : challengerScore.value(),
                championScore == null ? null : championScore.value(),
                challengerScore == null ? null : challengerScore.images(), testData, decidedBy, Instant.now().toString());
    }
}
