package org.busispark.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The running mean of a network's flat parameter vector over epochs (batch-norm statistics included: DL4J keeps
 * them among the parameters), as in stochastic weight averaging over the low-rate tail of a schedule.
 */
final class WeightAverage {
    private INDArray mean;
    private int count;

    WeightAverage() {}

    /** Resumes an average of {@code count} epochs whose mean is {@code mean}. */
    WeightAverage(INDArray mean, int count) {
        this.mean = mean.dup();
        this.count = count;
    }

    int count() {
        return count;
    }

    /** The mean so far (not a copy). */
    INDArray mean() {
        return mean;
    }

    /** Adds one epoch's parameters: mean += (params - mean) / n. */
    void add(INDArray params) {
        count++;
        if (mean == null) {
            mean = params.dup();
        } else {
            mean.addi(params.sub(mean).divi(count));
        }
    }

    /** A copy of {@code network} carrying the averaged parameters; the network itself is unchanged. */
    ComputationGraph applyTo(ComputationGraph network) {
        if (count == 0) {
            throw new IllegalStateException("no epoch has been averaged");
        }
        ComputationGraph copy = network.clone();
        copy.setParams(mean);
        return copy;
    }
}
