package org.busispark.evaluate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Rank statistics of one class's scores against binary truth: ROC-AUC and the ROC curve. */
final class Scores {
    private Scores() {}

    /**
     * ROC-AUC as the Mann-Whitney U statistic (ties count one half), or NaN when one side is empty.
     *
     * @param idx which entries of {@code positive}/{@code score} to use (a bootstrap resample may repeat some)
     */
    static double auc(boolean[] positive, float[] score, int[] idx) {
        int n = idx.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(score[idx[a]], score[idx[b]]));
        double rankSumPos = 0;
        long pos = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && score[idx[order[j + 1]]] == score[idx[order[i]]]) {
                j++;
            }
            double midRank = (i + j) / 2.0 + 1; // ranks are 1-based; ties share their mean rank
            for (int k = i; k <= j; k++) {
                if (positive[idx[order[k]]]) {
                    rankSumPos += midRank;
                    pos++;
                }
            }
            i = j + 1;
        }
        long neg = n - pos;
        if (pos == 0 || neg == 0) {
            return Double.NaN;
        }
        return (rankSumPos - pos * (pos + 1) / 2.0) / ((double) pos * neg);
    }

    /** ROC curve points (false-positive rate, true-positive rate), one per distinct threshold, from (0,0) to (1,1). */
    static List<double[]> rocCurve(boolean[] positive, float[] score) {
        int n = score.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(score[b], score[a]));
        long pos = 0;
        for (boolean p : positive) {
            pos += p ? 1 : 0;
        }
        long neg = n - pos;
        List<double[]> out = new ArrayList<>();
        out.add(new double[] {0, 0});
        long tp = 0, fp = 0;
        for (int i = 0; i < n; i++) {
            if (positive[order[i]]) {
                tp++;
            } else {
                fp++;
            }
            if (i == n - 1 || score[order[i + 1]] != score[order[i]]) {
                out.add(new double[] {neg == 0 ? 0 : (double) fp / neg, pos == 0 ? 0 : (double) tp / pos});
            }
        }
        return out;
    }

    static int[] identity(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return idx;
    }
}
