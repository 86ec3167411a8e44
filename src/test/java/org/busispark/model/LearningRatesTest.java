package org.busispark.model;

import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LearningRatesTest {
    private static BusiConfig.Train train(String schedule, int epochs, int warmup) {
        return ConfigLoader.load(null, Map.of("busi.train.schedule", schedule, "busi.train.epochs", "" + epochs,
                "busi.train.warmup-epochs", "" + warmup, "busi.train.learning-rate", "0.01",
                "busi.train.step-epochs", "3", "busi.train.step-gamma", "0.5")).train();
    }

    @Test
    void warmUpThenCosineDownToOnePercent() {
        BusiConfig.Train t = train("cosine", 12, 2);
        assertEquals(0.01 / 3, LearningRates.at(t, 0), 1e-12);
        assertEquals(0.02 / 3, LearningRates.at(t, 1), 1e-12);
        assertEquals(0.01, LearningRates.at(t, 2), 1e-12, "the peak follows the warm-up");
        // Half-way through the 9 decay epochs (2..11) the cosine is at its mid value.
        assertEquals(0.01 * (0.01 + 0.99 * 0.5 * (1 + Math.cos(Math.PI * 4 / 9))), LearningRates.at(t, 6), 1e-12);
        assertEquals(0.0001, LearningRates.at(t, 11), 1e-12, "the last epoch is at the floor");
        for (int e = 3; e < 12; e++) {
            assertTrue(LearningRates.at(t, e) < LearningRates.at(t, e - 1), "decreasing after the peak");
        }
    }

    @Test
    void stepAndConstant() {
        BusiConfig.Train step = train("step", 10, 0);
        assertEquals(0.01, LearningRates.at(step, 2), 1e-12);
        assertEquals(0.005, LearningRates.at(step, 3), 1e-12);
        assertEquals(0.0025, LearningRates.at(step, 6), 1e-12);
        BusiConfig.Train constant = train("constant", 10, 0);
        assertEquals(0.01, LearningRates.at(constant, 9), 1e-12);
    }

    /**
     * Fine-tuning: the backbone's rate is 0 while frozen, then the factor times the schedule's, and every epoch's
     * rates keep the head's updater apart from the backbone's (equal settings would merge their updater blocks).
     */
    @Test
    void theBackboneFollowsItsOwnRateAndStaysApartFromTheHead() {
        BusiConfig.Train t = ConfigLoader.load(null, Map.of("busi.train.epochs", "6", "busi.train.warmup-epochs", "0",
                "busi.train.schedule", "constant", "busi.train.learning-rate", "0.01", "busi.train.freeze-epochs", "2",
                "busi.train.backbone-learning-rate-factor", "1", "busi.model.pretrained", "x")).train();
        assertEquals(0, LearningRates.backboneAt(t, 1));
        assertEquals(0.01, LearningRates.backboneAt(t, 2), 1e-12);
        ComputationGraph g = ResNetBuilder.build(new BusiConfig.Model("resnet18", 32, 1, 0.0625,
                List.of("benign", "malignant", "normal")), t);
        int blocks = g.getUpdater().getUpdaterBlocks().size();
        for (int e = 0; e < 6; e++) {
            LearningRates.set(g, t, e);
            assertEquals(0.01, g.getLearningRate(ResNetBuilder.OUTPUT), 1e-12, "head, epoch " + e);
            assertEquals(e < 2 ? 0 : 0.01, g.getLearningRate("s3b1_a_conv"), 1e-12, "backbone, epoch " + e);
            assertEquals(e < 2 ? 0 : 0.01, g.getLearningRate("s3b1_a_bn"), 1e-12, "batch norm, epoch " + e);
            // What dl4j-spark's workers build from the configuration groups the updater state the same way.
            ComputationGraph worker = new ComputationGraph(ComputationGraphConfiguration.fromJson(
                    g.getConfiguration().toJson()));
            worker.init();
            assertEquals(blocks, worker.getUpdater().getUpdaterBlocks().size(), "epoch " + e);
        }
    }

    /** The network reads the schedule from its configuration's epoch count, which is what Spark workers receive. */
    @Test
    void networkFollowsTheScheduleThroughItsEpochCount() {
        BusiConfig.Train t = train("cosine", 8, 1);
        ComputationGraph g = ResNetBuilder.build(new BusiConfig.Model("resnet18", 32, 1, 0.0625,
                List.of("benign", "malignant", "normal")), t, new double[] {1, 2, 3});
        for (int e = 0; e < 8; e++) {
            g.getConfiguration().setEpochCount(e);
            assertEquals(LearningRates.at(t, e), g.getLearningRate(ResNetBuilder.OUTPUT), 1e-9, "epoch " + e);
        }
        var loss = ((org.deeplearning4j.nn.conf.layers.BaseOutputLayer) g.getOutputLayer(0).conf().getLayer()).getLossFn();
        var weights = ((org.nd4j.linalg.lossfunctions.impl.LossMCXENT) loss).getWeights();
        assertEquals(3.0, weights.getDouble(2), 1e-6);
    }
}
