package org.busispark.train;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.DoubleAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Mean training loss over every minibatch the workers fit, on the data alone: DL4J's score adds the weight-decay
 * penalty (0.5 · coefficient · |w|², at the weights the minibatch saw), which is no loss on the data and dwarfs it
 * at AdamW-like coefficients, and dl4j-spark reports only each worker's last minibatch. Summed in Spark
 * accumulators, so a retried task counts its minibatches twice, in the sum and the count alike.
 */
final class LossMeter implements TrainingHook {
    private static final long serialVersionUID = 1L;
    /** The penalty at the weights a minibatch is fitted with, measured just before its update. */
    private static final ThreadLocal<Double> PENALTY = new ThreadLocal<>();
    private final DoubleAccumulator lossSum;
    private final LongAccumulator examples;

    LossMeter(JavaSparkContext jsc) {
        lossSum = jsc.sc().doubleAccumulator("busi train loss");
        examples = jsc.sc().longAccumulator("busi train examples");
    }

    /** The mean loss since the last call (NaN when nothing was fitted), and starts over. */
    double takeMean() {
        double mean = examples.value() == 0 ? Double.NaN : lossSum.value() / examples.value();
        lossSum.reset();
        examples.reset();
        return mean;
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        PENALTY.set(((ComputationGraph) model).calcRegularizationScore(true));
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
        long n = minibatch.getFeatures(0).size(0);
        lossSum.add((model.score() - PENALTY.get()) * n);
        examples.add(n);
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        throw new UnsupportedOperationException("trains ComputationGraphs, whose workers pass MultiDataSets");
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
        throw new UnsupportedOperationException("trains ComputationGraphs, whose workers pass MultiDataSets");
    }
}
