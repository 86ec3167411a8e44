package org.busispark.model.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.batch_normalization_backward;
import org.bytedeco.dnnl.batch_normalization_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.stream;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.normalization_flags;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * One NCHW shape's batch normalisation in training: forward computes the batch's mean and (biased) variance in the
 * same pass as the output, backward gives the input, scale and shift gradients. Plain NCHW throughout: oneDNN's
 * kernels read it as it is, so nothing is reordered.
 */
final class BatchNormPrimitives {
    private final primitive forward, backward;
    private final memory x, y, scale, shift, mean, variance, dy, dx, dScale, dShift;
    private final IntMemoryMap forwardArgs = new IntMemoryMap();
    private final IntMemoryMap backwardArgs = new IntMemoryMap();

    BatchNormPrimitives(long[] shape, float epsilon) {
        var engine = OneDnn.engine();
        memory.desc data = new memory.desc(shape, memory.data_type.f32, memory.format_tag.nchw);
        memory.desc channels = new memory.desc(new long[] {shape[1]}, memory.data_type.f32, memory.format_tag.x);
        int flags = normalization_flags.use_scale.value | normalization_flags.use_shift.value;
        var fpd = new batch_normalization_forward.primitive_desc(new batch_normalization_forward.desc(
                prop_kind.forward_training.value, data, epsilon, flags), engine);
        var bpd = new batch_normalization_backward.primitive_desc(new batch_normalization_backward.desc(
                prop_kind.backward.value, data, data, epsilon, flags), engine, fpd);
        forward = new batch_normalization_forward(fpd);
        backward = new batch_normalization_backward(bpd);
        x = OneDnn.userMemory(data);
        y = OneDnn.userMemory(data);
        dy = OneDnn.userMemory(data);
        dx = OneDnn.userMemory(data);
        scale = OneDnn.userMemory(channels);
        shift = OneDnn.userMemory(channels);
        mean = OneDnn.userMemory(channels);
        variance = OneDnn.userMemory(channels);
        dScale = OneDnn.userMemory(channels);
        dShift = OneDnn.userMemory(channels);
        forwardArgs.put(DNNL_ARG_SRC, x);
        forwardArgs.put(DNNL_ARG_SCALE, scale);
        forwardArgs.put(DNNL_ARG_SHIFT, shift);
        forwardArgs.put(DNNL_ARG_DST, y);
        forwardArgs.put(DNNL_ARG_MEAN, mean);
        forwardArgs.put(DNNL_ARG_VARIANCE, variance);
        backwardArgs.put(DNNL_ARG_SRC, x);
        backwardArgs.put(DNNL_ARG_MEAN, mean);
        backwardArgs.put(DNNL_ARG_VARIANCE, variance);
        backwardArgs.put(DNNL_ARG_SCALE, scale);
        backwardArgs.put(DNNL_ARG_SHIFT, shift);
        backwardArgs.put(DNNL_ARG_DIFF_DST, dy);
        backwardArgs.put(DNNL_ARG_DIFF_SRC, dx);
        backwardArgs.put(DNNL_ARG_DIFF_SCALE, dScale);
        backwardArgs.put(DNNL_ARG_DIFF_SHIFT, dShift);
    }

    /** out = gamma (in - mean) / sqrt(var + eps) + beta with the batch's mean and var, which it writes too. */
    void forward(INDArray in, INDArray gamma, INDArray beta, INDArray out, INDArray batchMean, INDArray batchVar) {
        OneDnn.bind(x, in);
        OneDnn.bind(scale, gamma);
        OneDnn.bind(shift, beta);
        OneDnn.bind(y, out);
        OneDnn.bind(mean, batchMean);
        OneDnn.bind(variance, batchVar);
        stream s = OneDnn.stream();
        forward.execute(s, forwardArgs);
        s._wait();
    }

    void backward(INDArray in, INDArray batchMean, INDArray batchVar, INDArray gamma, INDArray beta, INDArray gradOut,
                  INDArray gradIn, INDArray gradGamma, INDArray gradBeta) {
        OneDnn.bind(x, in);
        OneDnn.bind(mean, batchMean);
        OneDnn.bind(variance, batchVar);
        OneDnn.bind(scale, gamma);
        OneDnn.bind(shift, beta);
        OneDnn.bind(dy, gradOut);
        OneDnn.bind(dx, gradIn);
        OneDnn.bind(dScale, gradGamma);
        OneDnn.bind(dShift, gradBeta);
        stream s = OneDnn.stream();
        backward.execute(s, backwardArgs);
        s._wait();
    }

}
