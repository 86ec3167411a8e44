package org.busispark.model.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.eltwise_backward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.stream;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * ReLU forward and backward over a flat float array of one length (the operation is elementwise, so any dense
 * layout will do): one vectorised pass each, writing a new array. The gradient is zero where the input is not
 * positive, as DL4J's.
 */
final class ReluPrimitives {
    private final primitive forward, backward;
    private final memory x, y, dy, dx;
    private final IntMemoryMap forwardArgs = new IntMemoryMap(), backwardArgs = new IntMemoryMap();

    ReluPrimitives(long length) {
        memory.desc flat = new memory.desc(new long[] {length}, memory.data_type.f32, memory.format_tag.a);
        var fpd = new eltwise_forward.primitive_desc(new eltwise_forward.desc(prop_kind.forward_training,
                algorithm.eltwise_relu, flat, 0f, 0f), OneDnn.engine());
        var bpd = new eltwise_backward.primitive_desc(new eltwise_backward.desc(algorithm.eltwise_relu, flat, flat,
                0f, 0f), OneDnn.engine(), fpd);
        forward = new eltwise_forward(fpd);
        backward = new eltwise_backward(bpd);
        x = OneDnn.userMemory(flat);
        y = OneDnn.userMemory(flat);
        dy = OneDnn.userMemory(flat);
        dx = OneDnn.userMemory(flat);
        forwardArgs.put(DNNL_ARG_SRC, x);
        forwardArgs.put(DNNL_ARG_DST, y);
        backwardArgs.put(DNNL_ARG_SRC, x);
        backwardArgs.put(DNNL_ARG_DIFF_DST, dy);
        backwardArgs.put(DNNL_ARG_DIFF_SRC, dx);
    }

    /** out = max(in, 0); both dense, c-ordered, of this length. */
    void forward(INDArray in, INDArray out) {
        OneDnn.bind(x, in);
        OneDnn.bind(y, out);
        run(forward, forwardArgs);
    }

    /** gradIn = gradOut where in > 0, else 0. */
    void backward(INDArray in, INDArray gradOut, INDArray gradIn) {
        OneDnn.bind(x, in);
        OneDnn.bind(dy, gradOut);
        OneDnn.bind(dx, gradIn);
        run(backward, backwardArgs);
    }

    private static void run(primitive p, IntMemoryMap args) {
        stream s = OneDnn.stream();
        p.execute(s, args);
        s._wait();
    }
}
