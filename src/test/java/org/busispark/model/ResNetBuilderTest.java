package org.busispark.model;

import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

class ResNetBuilderTest {
    private static final BusiConfig.Train TRAIN = ConfigLoader.defaults().train();

    private static BusiConfig.Model model(String arch, int size, int channels, double width) {
        return new BusiConfig.Model(arch, size, channels, width, List.of("benign", "malignant", "normal"));
    }

    /**
     * torchvision's resnet18 has 11,689,512 parameters with a 1000-way head (512·1000 + 1000 of them), and
     * 4,800 batch-norm channels whose running mean and variance DL4J counts as parameters too.
     */
    @Test
    void resnet18MatchesTorchvisionParameterCount() {
        long torchvision3Way = 11_689_512L - 513_000L + (512 * 3 + 3);
        long bnRunningStats = 2L * 4_800;
        ComputationGraph g = ResNetBuilder.build(model("resnet18", 224, 3, 1.0), TRAIN);
        assertEquals(torchvision3Way + bnRunningStats, g.numParams());
    }

    /** resnet50: 25,557,032 in torchvision with 1000 classes; 26,560 batch-norm channels. */
    @Test
    void resnet50MatchesTorchvisionParameterCount() {
        long torchvision3Way = 25_557_032L - 2_049_000L + (2048 * 3 + 3);
        long bnRunningStats = 2L * 26_560;
        ComputationGraph g = ResNetBuilder.build(model("resnet50", 64, 3, 1.0), TRAIN);
        assertEquals(torchvision3Way + bnRunningStats, g.numParams());
    }

    @Test
    void grayscaleSmallModelOutputsProbabilities() {
        ComputationGraph g = ResNetBuilder.build(model("resnet34", 64, 1, 0.25), TRAIN);
        INDArray out = g.outputSingle(false, Nd4j.rand(DataType.FLOAT, 2, 1, 64, 64));
        assertArrayEquals(new long[] {2, 3}, out.shape());
        for (int i = 0; i < 2; i++) {
            assertEquals(1.0, out.getRow(i).sumNumber().doubleValue(), 1e-4);
        }
    }

    @Test
    void headIsGlobalAveragePoolOverTheLastBlock() {
        ComputationGraph g = ResNetBuilder.build(model("resnet18", 64, 1, 0.25), TRAIN);
        var pool = g.getLayer("avg_pool").conf().getLayer();
        GlobalPoolingLayer gp = assertInstanceOf(GlobalPoolingLayer.class, pool);
        assertEquals(PoolingType.AVG, gp.getPoolingType());
        assertNotNull(g.getVertex(ResNetBuilder.lastBlock("resnet18")));
        assertEquals(List.of(ResNetBuilder.lastBlock("resnet18")),
                List.of(g.getConfiguration().getVertexInputs().get("avg_pool").toArray(new String[0])));
    }
}
