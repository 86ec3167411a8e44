package org.busispark.model.onednn;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

/**
 * DL4J's ReLU activation layer on oneDNN: one pass forward and one backward. DL4J's layer copies its input in both
 * directions and then applies the activation in place, its gradient through a per-element function call (5% of
 * a ResNet-18 training step here, docs/benchmarks.md). Same configuration, so the saved model is unchanged; float
 * arrays only, anything else goes to DL4J's code.
 */
final class OneDnnReluLayer extends ActivationLayer {
    /** Primitives by length, per thread (see OneDnnConvHelper). */
    private static final ThreadLocal<Map<Long, ReluPrimitives>> PRIMITIVES = ThreadLocal.withInitial(HashMap::new);

    OneDnnReluLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** Whether {@code layer} is a plain ReLU (no cap, threshold or leak) that this class computes the same. */
    static boolean replaces(org.deeplearning4j.nn.api.Layer layer) {
        return layer.getClass() == ActivationLayer.class
                && ((org.deeplearning4j.nn.conf.layers.ActivationLayer) layer.conf().getLayer()).getActivationFn()
                .equals(new ActivationReLU());
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        if (input.dataType() != DataType.FLOAT) {
            return super.activate(training, workspaceMgr);
        }
        INDArray in = OneDnn.contiguous(input);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, in.shape(), 'c');
        primitives(in.length()).forward(in, out);
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        if (input.dataType() != DataType.FLOAT || epsilon.dataType() != DataType.FLOAT) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        INDArray in = OneDnn.contiguous(input);
        INDArray delta = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, in.shape(), 'c');
        primitives(in.length()).backward(in, OneDnn.contiguous(epsilon), delta);
        return new Pair<>(new DefaultGradient(), delta);
    }

    private static ReluPrimitives primitives(long length) {
        return PRIMITIVES.get().computeIfAbsent(length, ReluPrimitives::new);
    }
}
