package org.busispark.model.onednn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A DL4J batch-norm helper that trains on oneDNN (BatchNormPrimitives): one pass for the output and the batch
 * statistics, where ND4J's helper first reduces mean and variance separately. Inference, and anything but float
 * NCHW with learned scale and shift, goes to the helper DL4J made (or DL4J's own path where there was none).
 */
final class OneDnnBatchNormHelper implements BatchNormalizationHelper {
    private static final ThreadLocal<Map<List<Object>, BatchNormPrimitives>> PRIMITIVES =
            ThreadLocal.withInitial(HashMap::new);

    private final BatchNormalizationHelper delegate;
    private INDArray mean, variance; // the last training batch's statistics, which DL4J's running averages read
    private boolean trained; // whether the last forward pass was ours, so backward can use its statistics

    OneDnnBatchNormHelper(BatchNormalizationHelper delegate) {
        this.delegate = delegate;
    }

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public boolean checkSupported(double eps, boolean fixedGammaBeta) {
        return !fixedGammaBeta;
    }

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta,
                              INDArray mean, INDArray var, double decay, double eps, CNN2DFormat format,
                              LayerWorkspaceMgr workspaceMgr) {
        trained = training && supported(x, gamma, beta, format);
        if (!trained) {
            return delegate == null ? null
                    : delegate.preOutput(x, training, shape, gamma, beta, mean, var, decay, eps, format, workspaceMgr);
        }
        long channels = x.size(1);
        if (this.mean == null || this.mean.length() != channels) {
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                this.mean = Nd4j.createUninitialized(DataType.FLOAT, channels);
                this.variance = Nd4j.createUninitialized(DataType.FLOAT, channels);
            }
        }
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, x.shape());
        primitives(x, eps).forward(OneDnn.contiguous(x), gamma, beta, out, this.mean, this.variance);
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                                                     INDArray beta, INDArray dGammaView, INDArray dBetaView,
                                                     double eps, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!trained || !supported(input, gamma, beta, format) || !Shape.hasDefaultStridesForShape(dGammaView)
                || !Shape.hasDefaultStridesForShape(dBetaView)) {
            return delegate == null ? null : delegate.backpropGradient(input, epsilon, shape, gamma, beta,
                    dGammaView, dBetaView, eps, format, workspaceMgr);
        }
        INDArray gradIn = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape());
        primitives(input, eps).backward(OneDnn.contiguous(input), mean, variance, gamma, beta,
                OneDnn.contiguous(epsilon), gradIn, dGammaView, dBetaView);
        Gradient g = new DefaultGradient();
        g.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
        g.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
        return new Pair<>(g, gradIn);
    }

    @Override
    public INDArray getMeanCache(DataType dataType) {
        return trained ? mean : delegate == null ? null : delegate.getMeanCache(dataType);
    }

    @Override
    public INDArray getVarCache(DataType dataType) {
        return trained ? variance : delegate == null ? null : delegate.getVarCache(dataType);
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Map.of();
    }

    private static boolean supported(INDArray x, INDArray gamma, INDArray beta, CNN2DFormat format) {
        return format == CNN2DFormat.NCHW && x.rank() == 4 && x.dataType() == DataType.FLOAT && gamma != null
                && beta != null && Shape.hasDefaultStridesForShape(gamma) && Shape.hasDefaultStridesForShape(beta);
    }

    private static BatchNormPrimitives primitives(INDArray x, double eps) {
        long[] shape = x.shape();
        return PRIMITIVES.get().computeIfAbsent(List.of(shape[0], shape[1], shape[2], shape[3], (float) eps),
                k -> new BatchNormPrimitives(shape, (float) eps));
    }
}
