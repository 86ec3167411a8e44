package org.busispark.model;

import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oneDNN layer helpers that Nd4jRuntime switches on (and the Nd4jCpu shim lets DL4J find) are really used,
 * and compute what DL4J's own layer code computes, forward and backward, within float tolerance.
 */
class OneDnnHelpersTest {
    private static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";
    private static final BusiConfig.Model MODEL =
            new BusiConfig.Model("resnet18", 32, 1, 0.25, List.of("benign", "malignant", "normal"));
    private static final BusiConfig.Train TRAIN = ConfigLoader.defaults().train();

    private static ComputationGraph build() {
        return ResNetBuilder.build(MODEL, TRAIN);
    }

    static ComputationGraph withoutHelpers(Supplier<ComputationGraph> build) {
        String before = System.getProperty(HELPERS_DISABLE);
        System.setProperty(HELPERS_DISABLE, "true");
        try {
            return build.get();
        } finally {
            if (before == null) {
                System.clearProperty(HELPERS_DISABLE);
            } else {
                System.setProperty(HELPERS_DISABLE, before);
            }
        }
    }

    @Test
    void convolutionBatchNormAndPoolingRunThroughOneDnn() {
        ComputationGraph g = build();
        assertInstanceOf(MKLDNNConvHelper.class, g.getLayer("stem_conv").getHelper());
        assertInstanceOf(MKLDNNBatchNormHelper.class, g.getLayer("stem_bn").getHelper());
        assertInstanceOf(MKLDNNSubsamplingHelper.class, g.getLayer("stem_pool").getHelper());
        assertNull(withoutHelpers(OneDnnHelpersTest::build).getLayer("stem_conv").getHelper());
    }

    @Test
    void helpersMatchDl4jsOwnLayersForwardAndBackward() {
        ComputationGraph fast = build();
        ComputationGraph plain = withoutHelpers(OneDnnHelpersTest::build);
        plain.setParams(fast.params().dup());
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.rand(DataType.FLOAT, 6, 1, 32, 32);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 6, 3);
        for (int i = 0; i < 6; i++) {
            y.putScalar(i, i % 3, 1f);
        }

        assertClose("inference output", plain.outputSingle(false, x), fast.outputSingle(false, x));

        double[] scores = new double[2];
        Gradient[] grads = new Gradient[2];
        ComputationGraph[] graphs = {plain, fast};
        for (int i = 0; i < 2; i++) {
            graphs[i].setInputs(x);
            graphs[i].setLabels(y);
            graphs[i].computeGradientAndScore();
            scores[i] = graphs[i].score();
            grads[i] = graphs[i].gradient();
        }
        assertEquals(scores[0], scores[1], 1e-4 * Math.abs(scores[0]), "training loss");
        Map<String, INDArray> expected = grads[0].gradientForVariable();
        assertTrue(expected.size() > 40, "a gradient per parameter of every layer");
        expected.forEach((name, g) -> assertClose("gradient of " + name, g, grads[1].getGradientFor(name)));
    }

    /** Equal within 1e-3 of the reference's largest magnitude: float sums in a different order differ slightly. */
    static void assertClose(String what, INDArray expected, INDArray actual) {
        double scale = Math.max(expected.amaxNumber().doubleValue(), 1e-6);
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-3 * scale, what + ": max difference " + diff + " against max magnitude " + scale);
    }
}
