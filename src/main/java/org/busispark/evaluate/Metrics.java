package org.busispark.evaluate;

import java.util.ArrayList;
import java.util.List;

/**
 * Classification metrics: the seed recipe's accuracy, average loss and macro-F1, plus per-class precision,
 * recall, F1 and support, and the confusion matrix (rows = true class, columns = predicted class).
 * <p>
 * A class with no image in the set (a site without normal images) has no per-class metrics (NaN) and is left out of
 * macro-F1, which averages over the classes the set has; predicting it is still an error in accuracy and in the true
 * class's recall.
 */
public record Metrics(List<String> classes, long count, double accuracy, double averageLoss, double macroF1,
                      List<ClassMetrics> perClass, long[][] confusionMatrix) {

    public record ClassMetrics(String label, double precision, double recall, double f1, long support) {}

    public static Metrics from(MetricsAccumulator acc, List<String> classes) {
        long[][] cm = acc.confusion();
        int k = classes.size();
        long total = 0, correct = 0;
        long[] predicted = new long[k];
        long[] actual = new long[k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                total += cm[i][j];
                actual[i] += cm[i][j];
                predicted[j] += cm[i][j];
            }
            correct += cm[i][i];
        }
        List<ClassMetrics> per = new ArrayList<>(k);
        double f1Sum = 0;
        int present = 0;
        for (int c = 0; c < k; c++) {
            if (actual[c] == 0) {
                per.add(new ClassMetrics(classes.get(c), Double.NaN, Double.NaN, Double.NaN, 0));
                continue;
            }
            // A class never predicted has precision 0, as scikit-learn's zero_division=0 reports it.
            double precision = predicted[c] == 0 ? 0 : (double) cm[c][c] / predicted[c];
            double recall = (double) cm[c][c] / actual[c];
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            per.add(new ClassMetrics(classes.get(c), precision, recall, f1, actual[c]));
            f1Sum += f1;
            present++;
        }
        double accuracy = total == 0 ? 0 : (double) correct / total;
        double loss = total == 0 ? 0 : acc.lossSum() / total;
        long[][] copy = new long[k][];
        for (int i = 0; i < k; i++) {
            copy[i] = cm[i].clone();
        }
        return new Metrics(List.copyOf(classes), total, accuracy, loss, present == 0 ? 0 : f1Sum / present,
                List.copyOf(per), copy);
    }
}
