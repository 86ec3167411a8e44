package org.busispark.evaluate;

import com.fasterxml.jackson.annotation.JsonIgnore;
import org.busispark.model.Prediction;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Everything {@code busi evaluate} reports about a labelled set, computed from per-image class probabilities:
 * the seed recipe's accuracy, average loss and macro-F1 with per-class metrics and the confusion matrix; one-vs-rest
 * ROC-AUC per class and macro; malignant sensitivity and specificity; a binary malignant-vs-rest view (for sets
 * without a normal class); expected calibration error; and percentile bootstrap 95% confidence intervals.
 * Macro averages (and their intervals) cover the classes the set has: see {@link Metrics}.
 *
 * @param rocCurves         per class, (false-positive rate, true-positive rate) points for plotting (not in JSON:
 *                          one point per distinct score)
 * @param reliability       per confidence bin: [lower edge, upper edge, count, mean confidence, accuracy]
 */
public record EvaluationResult(Metrics metrics, Map<String, Double> rocAuc, double macroRocAuc,
                               Binary malignantVsRest, double expectedCalibrationError,
                               Map<String, Interval> confidenceIntervals, int bootstrapSamples,
                               @JsonIgnore Map<String, List<double[]>> rocCurves, List<double[]> reliability) {

    public static final String POSITIVE_CLASS = "malignant";
    /** The metrics a model store can promote on (busi.store.promotion.metric), by name; higher is better for each. */
    public static final Map<String, ToDoubleFunction<EvaluationResult>> PROMOTION_METRICS = Map.of(
            "macro-f1", r -> r.metrics().macroF1(),
            "accuracy", r -> r.metrics().accuracy(),
            "macro-roc-auc", EvaluationResult::macroRocAuc,
            "malignant-sensitivity", r -> r.malignantVsRest() == null ? Double.NaN : r.malignantVsRest().sensitivity());
    static final int CALIBRATION_BINS = 15;

    /** A binary view: the positive class against all others, decided by the multi-class prediction. */
    public record Binary(String positive, long support, double sensitivity, double specificity, double precision,
                         double f1, double accuracy, double rocAuc) {}

    /** A percentile bootstrap confidence interval. */
    public record Interval(double estimate, double lower, double upper) {}

    /**
     * @param truth         true class index per image
     * @param probabilities class probabilities per image (rows sum to 1)
     * @param bootstrap     number of resamples for the confidence intervals (0 for none)
     */
    public static EvaluationResult compute(int[] truth, float[][] probabilities, List<String> classes,
                                           int bootstrap, long seed) {
        int n = truth.length;
        int k = classes.size();
        int[] all = Scores.identity(n);
        MetricsAccumulator acc = new MetricsAccumulator(k);
        for (int i = 0; i < n; i++) {
            acc.add(truth[i], probabilities[i]);
        }
        Metrics metrics = Metrics.from(acc, classes);

        Map<String, Double> auc = new LinkedHashMap<>();
        Map<String, List<double[]>> curves = new LinkedHashMap<>();
        for (int c = 0; c < k; c++) {
            boolean[] pos = positives(truth, c);
            float[] score = column(probabilities, c);
            double a = Scores.auc(pos, score, all);
            auc.put(classes.get(c), a);
            if (!Double.isNaN(a)) { // a class absent from the set (or the only one in it) has no curve
                curves.put(classes.get(c), Scores.rocCurve(pos, score));
            }
        }
        double macroAuc = macroAuc(truth, probabilities, k, all);

        int positive = classes.indexOf(POSITIVE_CLASS);
        Binary binary = positive < 0 ? null : binary(truth, probabilities, positive, all);

        List<double[]> reliability = reliability(truth, probabilities);
        double ece = 0;
        for (double[] bin : reliability) {
            ece += bin[2] / n * Math.abs(bin[4] - bin[3]);
        }

        Map<String, Interval> ci = new LinkedHashMap<>();
        if (bootstrap > 0 && n > 1) {
            double[] accs = new double[bootstrap], f1s = new double[bootstrap], aucs = new double[bootstrap];
            SplittableRandom rnd = new SplittableRandom(seed);
            int[] idx = new int[n];
            for (int b = 0; b < bootstrap; b++) {
                MetricsAccumulator resample = new MetricsAccumulator(k);
                for (int i = 0; i < n; i++) {
                    idx[i] = rnd.nextInt(n);
                    resample.add(truth[idx[i]], probabilities[idx[i]]);
                }
                // A resample can miss a rare class; its macro-F1 then averages over the classes it has.
                Metrics m = Metrics.from(resample, classes);
                accs[b] = m.accuracy();
                f1s[b] = m.macroF1();
                aucs[b] = macroAuc(truth, probabilities, k, idx);
            }
            ci.put("accuracy", interval(metrics.accuracy(), accs));
            ci.put("macroF1", interval(metrics.macroF1(), f1s));
            ci.put("macroRocAuc", interval(macroAuc, aucs));
        }
        return new EvaluationResult(metrics, auc, macroAuc, binary, ece, ci, bootstrap, curves, reliability);
    }

    /**
     * Mean one-vs-rest AUC over the classes that have both positives and negatives in {@code idx}: a class absent
     * from the set has no AUC and does not count (NaN only when the set holds a single class).
     */
    private static double macroAuc(int[] truth, float[][] probabilities, int k, int[] idx) {
        double sum = 0;
        int used = 0;
        for (int c = 0; c < k; c++) {
            double a = Scores.auc(positives(truth, c), column(probabilities, c), idx);
            if (!Double.isNaN(a)) {
                sum += a;
                used++;
            }
        }
        return used == 0 ? Double.NaN : sum / used;
    }

    private static Binary binary(int[] truth, float[][] probabilities, int positive, int[] idx) {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < truth.length; i++) {
            boolean actual = truth[i] == positive;
            boolean predicted = Prediction.argmax(probabilities[i]) == positive;
            if (actual) {
                if (predicted) tp++; else fn++;
            } else {
                if (predicted) fp++; else tn++;
            }
        }
        // Without malignant images (or without others) sensitivity (specificity) is undefined, not 0.
        double sensitivity = ratio(tp, tp + fn);
        double specificity = ratio(tn, tn + fp);
        double precision = tp + fp == 0 && tp + fn > 0 ? 0 : ratio(tp, tp + fp);
        double f1 = tp + fn == 0 ? Double.NaN
                : precision + sensitivity == 0 ? 0 : 2 * precision * sensitivity / (precision + sensitivity);
        return new Binary(POSITIVE_CLASS, tp + fn, sensitivity, specificity, precision, f1,
                ratio(tp + tn, truth.length), Scores.auc(positives(truth, positive), column(probabilities, positive), idx));
    }

    /** Top-label confidence bins of equal width over [0, 1]; empty bins are left out. */
    private static List<double[]> reliability(int[] truth, float[][] probabilities) {
        double[] count = new double[CALIBRATION_BINS], conf = new double[CALIBRATION_BINS], hits = new double[CALIBRATION_BINS];
        for (int i = 0; i < truth.length; i++) {
            int top = Prediction.argmax(probabilities[i]);
            double p = probabilities[i][top];
            int bin = Math.min(CALIBRATION_BINS - 1, (int) (p * CALIBRATION_BINS));
            count[bin]++;
            conf[bin] += p;
            hits[bin] += top == truth[i] ? 1 : 0;
        }
        List<double[]> out = new ArrayList<>();
        for (int b = 0; b < CALIBRATION_BINS; b++) {
            if (count[b] > 0) {
                out.add(new double[] {(double) b / CALIBRATION_BINS, (double) (b + 1) / CALIBRATION_BINS, count[b],
                        conf[b] / count[b], hits[b] / count[b]});
            }
        }
        return out;
    }

    private static Interval interval(double estimate, double[] samples) {
        double[] s = java.util.Arrays.stream(samples).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (s.length == 0) {
            return new Interval(estimate, Double.NaN, Double.NaN);
        }
        return new Interval(estimate, s[(int) Math.floor(0.025 * (s.length - 1))], s[(int) Math.ceil(0.975 * (s.length - 1))]);
    }

    private static boolean[] positives(int[] truth, int c) {
        boolean[] out = new boolean[truth.length];
        for (int i = 0; i < truth.length; i++) {
            out[i] = truth[i] == c;
        }
        return out;
    }

    private static float[] column(float[][] probabilities, int c) {
        float[] out = new float[probabilities.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = probabilities[i][c];
        }
        return out;
    }

    private static double ratio(long a, long b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }
}
