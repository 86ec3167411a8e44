package org.busispark.model.onednn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Puts a network's convolutions and batch norms, and its Adam or AdaBelief updater (OneDnnUpdaters), on oneDNN
 * primitives of this package (training about 1.7x as fast
 * as on ND4J's oneDNN path on CPU; docs/benchmarks.md). DL4J has no way to choose a layer's helper, so each
 * layer's {@code helper} field is set; the layer's configuration, parameters and saved form are unchanged, and a
 * network without it (or on a GPU backend) trains the same model on DL4J's own path.
 */
public final class OneDnnLayers {
    private static final Field CONV_HELPER = helperField(ConvolutionLayer.class);
    private static final Field BN_HELPER = helperField(BatchNormalization.class);

    private OneDnnLayers() {}

    /**
     * Installs the helpers on every plain convolution and batch-norm layer, and the updaters, for a network that the calling thread
     * trains with all of this machine's cores; returns how many layers use them (0 off CPU).
     */
    public static int install(ComputationGraph graph) {
        return install(graph, Runtime.getRuntime().availableProcessors());
    }

    /**
     * The same for a network the calling thread trains with {@code threads} cores (its OpenMP team, set once per
     * thread: a Spark task gets its share of the executor's cores).
     */
    public static int install(ComputationGraph graph, int threads) {
        if (!onCpu() || !OneDnn.available()) {
            return 0;
        }
        OneDnn.team(Math.max(1, threads));
        Set<String> inputs = Set.copyOf(graph.getConfiguration().getNetworkInputs());
        Map<String, List<String>> vertexInputs = graph.getConfiguration().getVertexInputs();
        int installed = 0;
        for (Layer layer : graph.getLayers()) {
            // subclasses of the convolution layer (1-D, depthwise, deconvolution) compute something else
            if (layer.getClass() == ConvolutionLayer.class) {
                if (!(layer.getHelper() instanceof OneDnnConvHelper)) {
                    boolean fromInput = inputs.containsAll(vertexInputs.get(layer.getConfig().getLayerName()));
                    set(CONV_HELPER, layer, new OneDnnConvHelper(!fromInput));
                }
                installed++;
            } else if (layer instanceof BatchNormalization) {
                if (!(layer.getHelper() instanceof OneDnnBatchNormHelper)) {
                    set(BN_HELPER, layer, new OneDnnBatchNormHelper((BatchNormalizationHelper) layer.getHelper()));
                }
                installed++;
            }
        }
        OneDnnUpdaters.install(graph);
        return installed;
    }

    /**
     * For dl4j-spark's workers, which build their own networks: installs the helpers before each minibatch, for
     * workers of {@code threadsPerWorker} cores each.
     */
    public static TrainingHook installer(int threadsPerWorker) {
        return new Installer(threadsPerWorker);
    }

    private static boolean onCpu() {
        return Nd4j.getBackend().getClass().getName().contains(".cpu.");
    }

    private static Field helperField(Class<?> layerClass) {
        try {
            Field f = layerClass.getDeclaredField("helper");
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static void set(Field helper, Layer layer, Object value) {
        try {
            helper.set(layer, value);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class Installer implements TrainingHook {
        private static final long serialVersionUID = 1L;
        private final int threads;

        Installer(int threads) {
            this.threads = threads;
        }

        @Override
        public void preUpdate(DataSet minibatch, Model model) {
            if (model instanceof ComputationGraph graph) {
                install(graph, threads);
            }
        }

        @Override
        public void postUpdate(DataSet minibatch, Model model) {}

        @Override
        public void preUpdate(MultiDataSet minibatch, Model model) {
            preUpdate((DataSet) null, model);
        }

        @Override
        public void postUpdate(MultiDataSet minibatch, Model model) {}
    }
}
