package org.busispark.model;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The network scoring runs. Every batch norm that follows a convolution is folded into that convolution's weights
 * and bias, and a ReLU layer that follows it becomes the convolution's own activation: at inference batch norm is
 * a fixed per-channel affine map, so the outputs are the same up to float rounding, with two fewer passes over
 * each activation tensor per block (ResNet-18: 20 batch-norm and 9 activation layers fewer). And the network runs
 * channels-last (NHWC): libnd4j's oneDNN convolutions are faster on it than on NCHW, whose tensors they reorder on
 * every call (bench/train-speed.sh, about 1.1x). Training keeps NCHW: its backward pass gained nothing from NHWC.
 * The weights are the same arrays in either layout; only the activations (and so the input) change.
 */
public final class InferenceGraph {
    private InferenceGraph() {}

    /** A new network with the folds applied, channels-last; {@code trained} is left as it is. */
    public static ComputationGraph of(ComputationGraph trained) {
        ComputationGraphConfiguration conf = trained.getConfiguration().clone();
        Map<String, GraphVertex> vertices = conf.getVertices();
        Map<String, List<String>> inputs = conf.getVertexInputs();
        // conv name -> the batch norm folded into it
        Map<String, String> folded = new LinkedHashMap<>();
        for (String bn : new ArrayList<>(vertices.keySet())) {
            String conv = foldableConvolution(conf, bn);
            if (conv == null) {
                continue;
            }
            ConvolutionLayer convLayer = (ConvolutionLayer) layer(vertices.get(conv));
            convLayer.setHasBias(true);
            remove(conf, bn, conv);
            folded.put(conv, bn);
            List<String> next = consumers(inputs, conv);
            if (next.size() == 1 && layer(vertices.get(next.get(0))) instanceof ActivationLayer act
                    && isIdentity(convLayer.getActivationFn())) {
                convLayer.setActivationFn(act.getActivationFn());
                remove(conf, next.get(0), conv);
            }
        }
        conf.setTopologicalOrder(null);
        conf.setTopologicalOrderStr(null);
        for (GraphVertex vertex : vertices.values()) {
            Object layer = layer(vertex);
            if (layer instanceof ConvolutionLayer c) {
                c.setCnn2dDataFormat(CNN2DFormat.NHWC);
            } else if (layer instanceof SubsamplingLayer p) {
                p.setCnn2dDataFormat(CNN2DFormat.NHWC);
            } else if (layer instanceof BatchNormalization b) {
                b.setCnn2DFormat(CNN2DFormat.NHWC);
            } else if (layer instanceof GlobalPoolingLayer g) {
                g.setPoolingDimensions(new int[] {1, 2}); // height and width
            }
        }

        // Every parameter is overwritten below: start from uninitialised memory rather than a random weight init.
        long count = conf.getVertices().values().stream().mapToLong(v -> v instanceof LayerVertex lv
                ? lv.getLayerConf().getLayer().initializer().numParams(lv.getLayerConf()) : 0).sum();
        ComputationGraph fused = new ComputationGraph(conf);
        fused.init(Nd4j.createUninitialized(trained.params().dataType(), 1, count), false);
        for (String name : fused.getConfiguration().getVertices().keySet()) {
            if (fused.getLayer(name) == null) {
                continue;
            }
            String bn = folded.get(name);
            if (bn == null) {
                trained.getLayer(name).paramTable().forEach((k, v) -> fused.getLayer(name).getParam(k).assign(v));
            } else {
                fold(trained, name, bn, fused);
            }
        }
        return fused;
    }

    /** Whether {@code graph} takes and makes channels-last (NHWC) activations, as the networks {@link #of} makes do. */
    public static boolean channelsLast(ComputationGraph graph) {
        return graph.getConfiguration().getVertices().values().stream()
                .anyMatch(v -> layer(v) instanceof ConvolutionLayer c && c.getCnn2dDataFormat() == CNN2DFormat.NHWC);
    }

    /** An NCHW minibatch in {@code graph}'s layout (one channel: the same memory, reshaped). */
    public static INDArray input(ComputationGraph graph, INDArray nchw) {
        if (!channelsLast(graph)) {
            return nchw;
        }
        return nchw.size(1) == 1 ? nchw.reshape('c', nchw.size(0), nchw.size(2), nchw.size(3), 1)
                : nchw.permute(0, 2, 3, 1).dup('c');
    }

    /** An activation of {@code graph} in NCHW, whatever layout the graph runs. */
    public static INDArray channelsFirst(ComputationGraph graph, INDArray activation) {
        return channelsLast(graph) ? activation.permute(0, 3, 1, 2).dup('c') : activation;
    }

    /** The convolution {@code bn} reads, when {@code bn} is a batch norm and the convolution feeds nothing else. */
    private static String foldableConvolution(ComputationGraphConfiguration conf, String bn) {
        if (!(layer(conf.getVertices().get(bn)) instanceof BatchNormalization bnConf) || bnConf.isLockGammaBeta()) {
            return null;
        }
        List<String> in = conf.getVertexInputs().get(bn);
        if (in == null || in.size() != 1 || !(layer(conf.getVertices().get(in.get(0))) instanceof ConvolutionLayer conv)
                || conv.getClass() != ConvolutionLayer.class || consumers(conf.getVertexInputs(), in.get(0)).size() != 1) {
            return null;
        }
        return in.get(0);
    }

    /**
     * y = gamma (conv(x) + b - mean) / std + beta, per output channel, as one convolution. DL4J keeps log10 of the
     * running std and normalises by sqrt(std^2 + eps) (measured: leaving eps out is 100x further off).
     */
    private static void fold(ComputationGraph trained, String conv, String bn, ComputationGraph fused) {
        BatchNormalization bnConf = (BatchNormalization) layer(trained.getConfiguration().getVertices().get(bn));
        Map<String, INDArray> p = trained.getLayer(bn).paramTable();
        INDArray gamma = flat(p.get(BatchNormalizationParamInitializer.GAMMA));
        INDArray beta = flat(p.get(BatchNormalizationParamInitializer.BETA));
        INDArray mean = flat(p.get(BatchNormalizationParamInitializer.GLOBAL_MEAN));
        INDArray std = p.containsKey(BatchNormalizationParamInitializer.GLOBAL_LOG_STD)
                ? Transforms.sqrt(Transforms.exp(flat(p.get(BatchNormalizationParamInitializer.GLOBAL_LOG_STD))
                        .mul(2 * Math.log(10))).add(bnConf.getEps()))
                : Transforms.sqrt(flat(p.get(BatchNormalizationParamInitializer.GLOBAL_VAR)).add(bnConf.getEps()));
        INDArray scale = gamma.div(std);

        // Only the per-channel factors are computed in double; the weights are scaled in their own type, in place
        // in the fused network's parameter views, so folding allocates no copy of them.
        Map<String, INDArray> c = trained.getLayer(conv).paramTable();
        var layer = fused.getLayer(conv);
        INDArray w = layer.getParam(ConvolutionParamInitializer.WEIGHT_KEY); // [out, in, kh, kw]
        w.assign(c.get(ConvolutionParamInitializer.WEIGHT_KEY));
        Nd4j.getExecutioner().exec(new BroadcastMulOp(w, scale.castTo(w.dataType()), w, 0));
        INDArray bias = c.containsKey(ConvolutionParamInitializer.BIAS_KEY)
                ? flat(c.get(ConvolutionParamInitializer.BIAS_KEY)) : Nd4j.zeros(DataType.DOUBLE, mean.length());
        INDArray b = layer.getParam(ConvolutionParamInitializer.BIAS_KEY);
        b.assign(bias.sub(mean).mul(scale).add(beta).reshape(b.shape()).castTo(b.dataType()));
    }

    /** Removes {@code name}, whose single input is {@code input}, and points its consumers at {@code input}. */
    private static void remove(ComputationGraphConfiguration conf, String name, String input) {
        conf.getVertices().remove(name);
        conf.getVertexInputs().remove(name);
        conf.getVertexInputs().values().forEach(in -> in.replaceAll(v -> v.equals(name) ? input : v));
        conf.getNetworkOutputs().replaceAll(v -> v.equals(name) ? input : v);
    }

    private static List<String> consumers(Map<String, List<String>> inputs, String vertex) {
        List<String> out = new ArrayList<>();
        inputs.forEach((name, in) -> {
            if (in.contains(vertex)) {
                out.add(name);
            }
        });
        return out;
    }

    private static Object layer(GraphVertex vertex) {
        return vertex instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
    }

    private static boolean isIdentity(IActivation activation) {
        return activation == null || activation instanceof org.nd4j.linalg.activations.impl.ActivationIdentity;
    }

    private static INDArray flat(INDArray a) {
        return a.castTo(DataType.DOUBLE).reshape(a.length());
    }
}
