package org.busispark.model.onednn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Puts a network's convolutions, batch norms and ReLUs, and its Adam or AdaBelief updater (OneDnnUpdaters), on
 * oneDNN primitives of this package (training about 1.7x as fast as on ND4J's oneDNN path on CPU;
 * docs/benchmarks.md). DL4J has no way to choose a layer's helper, so each layer's {@code helper} field is set, and
 * a ReLU layer object is swapped for a subclass; configurations, parameters and the saved form are unchanged, and
 * a network without them (or on a GPU backend) trains the same model on DL4J's own path.
 */
public final class OneDnnLayers {
    private static final Field CONV_HELPER = field(ConvolutionLayer.class, "helper");
    private static final Field BN_HELPER = field(BatchNormalization.class, "helper");
    private static final Field VERTEX_LAYER = field(LayerVertex.class, "layer");

    private OneDnnLayers() {}

    /**
     * Installs the helpers on every plain convolution and batch-norm layer, the ReLU layers and the updaters, for a
     * network that the calling thread trains with all of this machine's cores; returns how many layers run on oneDNN
     * (0 off CPU).
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
        int installed = installConvolutions(graph, true) + replaceRelus(graph);
        for (Layer layer : graph.getLayers()) {
            if (layer instanceof BatchNormalization) {
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
     * For a network that only infers, as {@code InferenceGraph.of} makes them (batch norms folded, channels-last):
     * its convolutions and ReLUs on oneDNN, on the OpenMP team of whichever thread runs it. Returns how many layers
     * run on oneDNN (0 off CPU).
     */
    public static int installForInference(ComputationGraph graph) {
        if (!onCpu() || !OneDnn.available()) {
            return 0;
        }
        return installConvolutions(graph, false) + replaceRelus(graph);
    }

    /** Helpers on every plain convolution; with {@code training}, those not fed by the input compute its gradient. */
    private static int installConvolutions(ComputationGraph graph, boolean training) {
        Set<String> inputs = Set.copyOf(graph.getConfiguration().getNetworkInputs());
        Map<String, List<String>> vertexInputs = graph.getConfiguration().getVertexInputs();
        int installed = 0;
        for (Layer layer : graph.getLayers()) {
            // subclasses of the convolution layer (1-D, depthwise, deconvolution) compute something else
            if (layer.getClass() == ConvolutionLayer.class) {
                if (!(layer.getHelper() instanceof OneDnnConvHelper)) {
                    boolean fromInput = inputs.containsAll(vertexInputs.get(layer.getConfig().getLayerName()));
                    set(CONV_HELPER, layer, new OneDnnConvHelper(training && !fromInput));
                }
                installed++;
            }
        }
        return installed;
    }

    /** Puts a OneDnnReluLayer in place of every plain ReLU layer, in its vertex and the graph's layer list. */
    private static int replaceRelus(ComputationGraph graph) {
        int replaced = 0;
        Layer[] layers = graph.getLayers(); // the graph's own array
        for (GraphVertex vertex : graph.getVertices()) {
            if (vertex instanceof LayerVertex lv && OneDnnReluLayer.replaces(lv.getLayer())) {
                Layer old = lv.getLayer();
                OneDnnReluLayer relu = new OneDnnReluLayer(old.conf(), graph.getConfiguration().getDataType());
                relu.setIndex(old.getIndex());
                relu.setListeners(old.getListeners());
                set(VERTEX_LAYER, lv, relu);
                for (int i = 0; i < layers.length; i++) {
                    if (layers[i] == old) {
                        layers[i] = relu;
                    }
                }
            }
            if (vertex instanceof LayerVertex lv && lv.getLayer() instanceof OneDnnReluLayer) {
                replaced++;
            }
        }
        return replaced;
    }

    /**
     * For dl4j-spark's workers, which build their own networks: installs the helpers before the first minibatch of
     * each network, for workers of {@code threadsPerWorker} cores each.
     */
    public static TrainingHook installer(int threadsPerWorker) {
        return new Installer(threadsPerWorker);
    }

    private static boolean onCpu() {
        return Nd4j.getBackend().getClass().getName().contains(".cpu.");
    }

    private static Field field(Class<?> type, String name) {
        try {
            Field f = type.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static void set(Field field, Object owner, Object value) {
        try {
            field.set(owner, value);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class Installer implements TrainingHook {
        private static final long serialVersionUID = 1L;
        /** The network this thread last installed on: a worker keeps its network for a whole averaging round. */
        private static final ThreadLocal<WeakReference<Model>> LAST =
                ThreadLocal.withInitial(() -> new WeakReference<>(null));
        private final int threads;

        Installer(int threads) {
            this.threads = threads;
        }

        @Override
        public void preUpdate(DataSet minibatch, Model model) {
            if (model instanceof ComputationGraph graph && LAST.get().get() != model) {
                install(graph, threads);
                LAST.set(new WeakReference<>(model));
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
