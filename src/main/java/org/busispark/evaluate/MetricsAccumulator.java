package org.busispark.evaluate;

import org.busispark.model.Prediction;

import java.io.Serializable;

/**
 * Mergeable sufficient statistics for classification metrics: the confusion matrix and the summed
 * cross-entropy. Built per partition and merged with Spark's treeAggregate; nothing per image reaches the driver.
 */
public final class MetricsAccumulator implements Serializable {
    /** Probabilities are clipped here before the log, as in PyTorch's NLL on softmax outputs in float32. */
    private static final double MIN_PROB = 1e-7;
    private final long[][] confusion;
    private double lossSum;

    public MetricsAccumulator(int numClasses) {
        confusion = new long[numClasses][numClasses];
    }

    public MetricsAccumulator add(Prediction p) {
        if (p.error() == null && p.labelIndex() != null) {
            add(p.labelIndex(), p.probabilities());
        }
        return this;
    }

    public MetricsAccumulator add(int truth, float[] probabilities) {
        confusion[truth][Prediction.argmax(probabilities)]++;
        lossSum += -Math.log(Math.max(MIN_PROB, probabilities[truth]));
        return this;
    }

    public MetricsAccumulator merge(MetricsAccumulator other) {
        for (int i = 0; i < confusion.length; i++) {
            for (int j = 0; j < confusion.length; j++) {
                confusion[i][j] += other.confusion[i][j];
            }
        }
        lossSum += other.lossSum;
        return this;
    }

    long[][] confusion() {
        return confusion;
    }

    double lossSum() {
        return lossSum;
    }
}
