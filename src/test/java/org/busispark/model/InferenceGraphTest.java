package org.busispark.model;

import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Folding batch norm into the convolutions and running channels-last change how scoring computes, not what it
 * computes.
 */
class InferenceGraphTest {
    private static final int SIZE = 32;

    @ParameterizedTest
    @CsvSource({"resnet18, 1", "resnet50, 1", "resnet18, 3"})
    void theScoringNetworkComputesWhatTheTrainedOneDoes(String architecture, int channels) {
        BusiConfig.Model model = new BusiConfig.Model(architecture, SIZE, channels, 0.125, TinyModel.CLASSES);
        ComputationGraph trained = ResNetBuilder.build(model, ConfigLoader.defaults().train());
        // Fresh batch norms are the identity (gamma 1, beta 0, mean 0, std 1); give them what training gives.
        Nd4j.getRandom().setSeed(7);
        int norms = 0;
        for (var layer : trained.getLayers()) {
            if (layer.conf().getLayer() instanceof BatchNormalization) {
                norms++;
                layer.paramTable().forEach((k, v) -> v.assign(switch (k) {
                    case "gamma" -> Nd4j.rand(DataType.FLOAT, v.shape()).addi(0.5);
                    case "beta", "mean" -> Nd4j.randn(DataType.FLOAT, v.shape()).muli(0.3);
                    default -> Nd4j.rand(DataType.FLOAT, v.shape()).muli(3.75).addi(0.25); // variance: std 0.5..2
                }));
            }
        }
        ComputationGraph folded = InferenceGraph.of(trained);
        assertTrue(InferenceGraph.channelsLast(folded) && !InferenceGraph.channelsLast(trained));

        long foldedNorms = folded.getConfiguration().getVertices().values().stream()
                .filter(v -> v instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BatchNormalization).count();
        assertEquals(0, foldedNorms, "every batch norm follows a convolution and is folded");
        assertTrue(norms > 15, "the trained network has its batch norms: " + norms);
        assertTrue(folded.getLayers().length < trained.getLayers().length - norms,
                "ReLU layers after batch norm became the convolutions' activations too");

        INDArray x = Nd4j.randn(DataType.FLOAT, 4, channels, SIZE, SIZE);
        INDArray xLast = InferenceGraph.input(folded, x);
        assertEquals(channels, xLast.size(3), "channels last");
        String block = ResNetBuilder.lastBlock(architecture);
        INDArray expected = trained.feedForward(x, false).get(block);
        INDArray actual = InferenceGraph.channelsFirst(folded, folded.feedForward(xLast, false).get(block));
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()));
        double scale = expected.amaxNumber().doubleValue();
        assertTrue(scale > 1e-3, "the last block is not all zeros: " + scale);
        // Float rounding only: the same sums in another order, through up to 50 layers.
        double relative = expected.sub(actual).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
        assertTrue(relative < 1e-5, "relative difference " + relative);

        INDArray p = trained.outputSingle(false, x);
        INDArray q = folded.outputSingle(false, xLast);
        assertTrue(p.sub(q).amaxNumber().doubleValue() < 1e-5, p + " vs " + q);
        // The trained network is untouched, and saving it still saves its batch norms.
        assertTrue(trained.getLayer("stem_bn") != null);
    }
}
