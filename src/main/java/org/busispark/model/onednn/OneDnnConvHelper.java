package org.busispark.model.onednn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A DL4J convolution helper on oneDNN's primitives (ConvPrimitives), one per layer, for float NCHW or NHWC
 * convolutions without dilation; anything else returns null and DL4J's own path runs. A layer fed by the network's
 * input computes no input gradient (nothing uses it).
 */
final class OneDnnConvHelper implements ConvolutionHelper {
    /**
     * Primitives by geometry, per thread: layers of the same geometry share them (a thread runs one layer at a time),
     * and the networks dl4j-spark makes for every averaging round find them already built.
     */
    private static final ThreadLocal<Map<Geometry, ConvPrimitives>> PRIMITIVES = ThreadLocal.withInitial(HashMap::new);

    private final boolean inputGradient;

    OneDnnConvHelper(boolean inputGradient) {
        this.inputGradient = inputGradient;
    }

    private record Geometry(List<Long> in, List<Long> weights, List<Long> out, List<Long> strides, List<Long> padL,
                            List<Long> padR, boolean inputGradient, boolean channelsLast) {}

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                              ConvolutionLayer.AlgoMode mode, ConvolutionLayer.FwdAlgo fwdAlgo,
                              ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                              LayerWorkspaceMgr workspaceMgr) {
        if (!supported(input, dilation) || bias == null) {
            return null;
        }
        int[] out = outSize(input, kernel, strides, pad, convolutionMode, dilation, format);
        INDArray z = format == CNN2DFormat.NHWC
                ? workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, input.size(0), out[0], out[1],
                weights.size(0))
                : workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, input.size(0),
                weights.size(0), out[0], out[1]);
        primitives(input, weights, kernel, strides, pad, convolutionMode, dilation, out, format)
                .forward(OneDnn.contiguous(input), OneDnn.contiguous(weights), OneDnn.contiguous(bias), z);
        return z;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                     int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                     INDArray weightGradView, IActivation afn,
                                                     ConvolutionLayer.AlgoMode mode,
                                                     ConvolutionLayer.BwdFilterAlgo bwdFilterAlgo,
                                                     ConvolutionLayer.BwdDataAlgo bwdDataAlgo,
                                                     ConvolutionMode convolutionMode, int[] dilation,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!supported(input, dilation) || biasGradView == null) {
            return null;
        }
        int[] out = outSize(input, kernel, strides, pad, convolutionMode, dilation, format);
        INDArray gradIn = inputGradient
                ? workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape()) : null;
        INDArray gradW = Shape.hasDefaultStridesForShape(weightGradView) ? weightGradView
                : weightGradView.dup('c');
        INDArray gradB = Shape.hasDefaultStridesForShape(biasGradView) ? biasGradView : biasGradView.dup('c');
        primitives(input, weights, kernel, strides, pad, convolutionMode, dilation, out, format)
                .backward(OneDnn.contiguous(input), OneDnn.contiguous(weights), OneDnn.contiguous(delta), gradIn,
                        gradW, gradB);
        if (gradW != weightGradView) {
            weightGradView.assign(gradW);
        }
        if (gradB != biasGradView) {
            biasGradView.assign(gradB);
        }
        Gradient g = new DefaultGradient();
        g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
        return new Pair<>(g, gradIn);
    }

    @Override
    public INDArray activate(INDArray z, IActivation afn, boolean training) {
        return null; // DL4J applies the activation
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Map.of();
    }

    private static boolean supported(INDArray input, int[] dilation) {
        return input.dataType() == DataType.FLOAT && input.rank() == 4
                && dilation[0] == 1 && dilation[1] == 1;
    }

    private ConvPrimitives primitives(INDArray input, INDArray weights, int[] kernel, int[] strides, int[] pad,
                                      ConvolutionMode convolutionMode, int[] dilation, int[] out,
                                      CNN2DFormat format) {
        boolean channelsLast = format == CNN2DFormat.NHWC;
        long[] shape = input.shape();
        long[] in = channelsLast ? new long[] {shape[0], shape[3], shape[1], shape[2]} : shape; // logical NCHW
        int[] top = convolutionMode == ConvolutionMode.Same
                ? ConvolutionUtils.getSameModeTopLeftPadding(out, new int[] {(int) in[2], (int) in[3]}, kernel,
                strides, dilation)
                : pad;
        long[] padL = {top[0], top[1]};
        // the right/bottom padding that makes the output size exact (negative where the last rows go unused)
        long[] padR = {(long) (out[0] - 1) * strides[0] + kernel[0] - in[2] - padL[0],
                (long) (out[1] - 1) * strides[1] + kernel[1] - in[3] - padL[1]};
        long[] outShape = {in[0], weights.size(0), out[0], out[1]};
        long[] stride = {strides[0], strides[1]};
        Geometry g = new Geometry(list(in), list(weights.shape()), list(outShape), list(stride), list(padL),
                list(padR), inputGradient, channelsLast);
        return PRIMITIVES.get().computeIfAbsent(g, k -> new ConvPrimitives(in, weights.shape(), outShape, stride,
                padL, padR, inputGradient, channelsLast));
    }

    private static int[] outSize(INDArray input, int[] kernel, int[] strides, int[] pad,
                                 ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format) {
        return ConvolutionUtils.getOutputSize(input, kernel, strides,
                convolutionMode == ConvolutionMode.Same ? null : pad, convolutionMode, dilation, format);
    }

    private static List<Long> list(long[] values) {
        return Arrays.stream(values).boxed().toList();
    }
}
