package org.busispark.model;

import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.model.onednn.OneDnnLayers;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdaBeliefUpdater;
import org.nd4j.linalg.learning.GradientUpdater;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;

import static org.busispark.model.OneDnnHelpersTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The convolutions, batch norms and updaters OneDnnLayers puts on oneDNN primitives compute what DL4J's own layer code
 * computes, forward, backward (batch-norm running averages included) and over several updates, on odd image sizes (uneven "same" padding, strided shortcuts), and leave the
 * saved model as it was.
 */
class OneDnnLayersTest {
    private static final int SIZE = 36; // 36 -> 18 -> 9 -> 5 -> 3 -> 2: odd sizes at every stride
    private static final BusiConfig.Model MODEL =
            new BusiConfig.Model("resnet18", SIZE, 1, 0.25, List.of("benign", "malignant", "normal"));
    private static final BusiConfig.Train TRAIN = ConfigLoader.defaults().train();

    private static ComputationGraph plain() {
        return OneDnnHelpersTest.withoutHelpers(() -> ResNetBuilder.build(MODEL, TRAIN));
    }

    private static ComputationGraph onOneDnn(ComputationGraph like) {
        ComputationGraph g = ResNetBuilder.build(MODEL, TRAIN);
        g.setParams(like.params().dup());
        assertEquals(57, OneDnnLayers.install(g), "every convolution, batch norm and ReLU of ResNet-18");
        for (UpdaterBlock block : g.getUpdater().getUpdaterBlocks()) {
            GradientUpdater<?> u = block.getGradientUpdater();
            if (u instanceof AdaBeliefUpdater) { // the default optimizer; the normalisation statistics have none
                assertNotSame(AdaBeliefUpdater.class, u.getClass(), "DL4J's updater replaced");
            }
        }
        return g;
    }

    private static DataSet batch(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, 1, SIZE, SIZE);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i + seed) % 3, 1f);
        }
        return new DataSet(x, y);
    }

    @Test
    void forwardAndEveryGradientMatchDl4jsOwnLayers() {
        ComputationGraph plain = plain();
        ComputationGraph fast = onOneDnn(plain);
        DataSet d = batch(5, 3);
        Map<String, INDArray> expected = plain.feedForward(d.getFeatures(), true);
        Map<String, INDArray> actual = fast.feedForward(d.getFeatures(), true);
        for (String layer : List.of("stem_conv", "stem_bn", "stem_relu", "s2b1_proj_conv", "s2b1",
                "s3b1_a_bn", "s3b1_a_relu", "s4b2_b_conv", "output")) {
            assertClose("training-mode activations of " + layer, expected.get(layer), actual.get(layer));
        }
        double[] scores = new double[2];
        Gradient[] grads = new Gradient[2];
        ComputationGraph[] graphs = {plain, fast};
        for (int i = 0; i < 2; i++) {
            graphs[i].setInputs(d.getFeatures());
            graphs[i].setLabels(d.getLabels());
            graphs[i].computeGradientAndScore();
            scores[i] = graphs[i].score();
            grads[i] = graphs[i].gradient();
        }
        assertEquals(scores[0], scores[1], 1e-4 * Math.abs(scores[0]), "training loss");
        assertNoFallback(fast);
        Map<String, INDArray> want = grads[0].gradientForVariable();
        assertEquals(20, want.keySet().stream().filter(k -> k.endsWith("_conv_W")).count(), "every convolution's weights");
        assertEquals(20, want.keySet().stream().filter(k -> k.endsWith("_bn_mean")).count(), "every running mean");
        want.forEach((name, g) -> assertClose("gradient of " + name, g, grads[1].getGradientFor(name)));
    }

    @Test
    void trainsLikeDl4jOverSeveralUpdatesAndBatchSizes() {
        ComputationGraph plain = plain();
        ComputationGraph fast = onOneDnn(plain);
        for (int step = 0; step < 4; step++) {
            DataSet d = batch(step == 3 ? 3 : 6, 10 + step); // a smaller last batch: primitives for a new shape
            plain.fit(d);
            fast.fit(d);
            assertEquals(plain.score(), fast.score(), 2e-3 * Math.abs(plain.score()), "loss at step " + step);
        }
        assertNoFallback(fast);
        assertClose("parameters after four updates", plain.params(), fast.params());
    }

    /** DL4J falls back to its own code (and logs) when a helper throws: the results above must be the helpers'. */
    private static void assertNoFallback(ComputationGraph g) {
        for (Layer layer : g.getLayers()) {
            Class<?> type = layer instanceof BatchNormalization ? BatchNormalization.class
                    : layer.getClass() == ConvolutionLayer.class ? ConvolutionLayer.class : null;
            if (type != null) {
                try {
                    Field fails = type.getDeclaredField("helperCountFail");
                    fails.setAccessible(true);
                    assertEquals(0, fails.getInt(layer), "helper failures in " + layer.getConfig().getLayerName());
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    /** Scoring's network (folded, channels-last) on oneDNN gives DL4J's outputs. */
    @Test
    void inferenceGraphOnOneDnnMatchesDl4j() {
        ComputationGraph trained = plain();
        trained.fit(batch(6, 21)); // running statistics that differ from the initial ones
        ComputationGraph folded = InferenceGraph.of(trained);
        ComputationGraph fast = Predictor.copyOf(folded);
        assertEquals(28, OneDnnLayers.installForInference(fast), "20 convolutions and the 8 ReLUs after additions");
        INDArray x = batch(3, 22).getFeatures();
        assertClose("scores", folded.outputSingle(false, InferenceGraph.input(folded, x)),
                fast.outputSingle(false, InferenceGraph.input(fast, x)));
        assertNoFallback(fast);
        assertInstanceOf(ConvolutionHelper.class, fast.getLayer("s2b1_proj_conv").getHelper());
        assertNotSame(MKLDNNConvHelper.class, fast.getLayer("s2b1_proj_conv").getHelper().getClass());
    }

    @Test
    void setsTheTrainingThreadsOpenMpTeamBeforeItsFirstPrimitive() throws Exception {
        var ops = org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps();
        int[] team = new int[2];
        Thread worker = new Thread(() -> {
            ComputationGraph g = ResNetBuilder.build(MODEL, TRAIN);
            OneDnnLayers.install(g, 3);
            team[0] = ops.ompGetMaxThreads();
            OneDnnLayers.install(g, 1); // once per thread: primitives already made keep their team
            team[1] = ops.ompGetMaxThreads();
            ops.setOmpNumThreads(Runtime.getRuntime().availableProcessors()); // ND4J's global setting, for later tests
        });
        worker.start();
        worker.join();
        assertEquals(3, team[0], "the worker thread's team");
        assertEquals(3, team[1], "unchanged by a second install");
    }

    @Test
    void savedModelIsDl4jsOwnAndLoadsWithDefaultHelpers() throws IOException {
        ComputationGraph fast = onOneDnn(plain());
        fast.fit(batch(4, 5));
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelSerializer.writeModel(fast, zip, true);
        ComputationGraph loaded = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(zip.toByteArray()), true);
        assertEquals(fast.getConfiguration().toJson(), loaded.getConfiguration().toJson());
        assertInstanceOf(MKLDNNConvHelper.class, loaded.getLayer("s1b1_a_conv").getHelper());
        INDArray x = batch(2, 9).getFeatures();
        assertClose("inference output after loading", fast.outputSingle(false, x), loaded.outputSingle(false, x));
    }
}
