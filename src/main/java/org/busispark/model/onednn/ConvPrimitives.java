package org.busispark.model.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * One convolution shape's oneDNN primitives, made once and reused for every minibatch of that shape: forward,
 * backward data, backward weights (and bias; made at the first backward pass), and the reorders between DL4J's plain
 * layouts (NCHW or NHWC activations, OIHW weights) and the blocked layouts oneDNN's kernels choose. ND4J's own
 * oneDNN path builds all of this again on every call and lets oneDNN pick Winograd for the weight gradient, several
 * times slower here.
 */
final class ConvPrimitives {
    private static final memory.data_type F32 = memory.data_type.f32;
    /** Scratch slots (OneDnn.scratch): forward uses the first three, backward all six. */
    private static final int X = 0, W = 1, Y = 2, DY_DATA = 3, DY_WEIGHTS = 4, GRAD = 5;
    private static final long[] DILATION = {0, 0};

    private final boolean inputGradient;
    private final primitive forward;
    private final convolution_forward.primitive_desc forwardDesc;
    private final memory.desc xAny, wAny, bAny, yAny;
    private final long[] weightDims, outDims, strides, padL, padR;
    private Backward backward; // made on the first backward pass: inference never needs it
    private final IntMemoryMap forwardArgs = new IntMemoryMap();
    private final IntMemoryMap dataArgs = new IntMemoryMap();
    private final IntMemoryMap weightsArgs = new IntMemoryMap();
    // user (DL4J) memories, bound to the arrays of each call
    private final memory x, w, b, y, dy, dx, dw, db;
    // oneDNN's layouts, in scratch; null where the user layout is what the kernel wants
    private final Staged fx, fw, fy;

    /**
     * Activations are NCHW, or NHWC where {@code channelsLast}; {@code in} and {@code out} are their logical
     * [N, C, H, W] sizes either way, weights OIHW.
     */
    ConvPrimitives(long[] in, long[] weights, long[] out, long[] strides, long[] padL, long[] padR,
                   boolean inputGradient, boolean channelsLast) {
        this.inputGradient = inputGradient;
        this.weightDims = weights;
        this.outDims = out;
        this.strides = strides;
        this.padL = padL;
        this.padR = padR;
        xAny = new memory.desc(in, F32, memory.format_tag.any);
        wAny = new memory.desc(weights, F32, memory.format_tag.any);
        yAny = new memory.desc(out, F32, memory.format_tag.any);
        bAny = new memory.desc(new long[] {weights[0]}, F32, memory.format_tag.x);
        forwardDesc = new convolution_forward.primitive_desc(new convolution_forward.desc(prop_kind.forward_training,
                algorithm.convolution_auto, xAny, wAny, bAny, yAny, strides, DILATION, padL, padR), OneDnn.engine());
        forward = new convolution_forward(forwardDesc);

        memory.format_tag activations = channelsLast ? memory.format_tag.nhwc : memory.format_tag.nchw;
        x = user(in, activations);
        w = user(weights, memory.format_tag.oihw);
        b = user(new long[] {weights[0]}, memory.format_tag.x);
        y = user(out, activations);
        dy = user(out, activations);
        dx = user(in, activations);
        dw = user(weights, memory.format_tag.oihw);
        db = user(new long[] {weights[0]}, memory.format_tag.x);

        fx = Staged.of(x, forwardDesc.src_desc(), X, true);
        fw = Staged.of(w, forwardDesc.weights_desc(), W, true);
        fy = Staged.of(y, forwardDesc.dst_desc(), Y, false);
        forwardArgs.put(DNNL_ARG_SRC, kernel(fx, x));
        forwardArgs.put(DNNL_ARG_WEIGHTS, kernel(fw, w));
        forwardArgs.put(DNNL_ARG_BIAS, b);
        forwardArgs.put(DNNL_ARG_DST, kernel(fy, y));
    }

    /** The backward primitives, the reorders they need and their arguments. */
    private final class Backward {
        final primitive data, weights;
        final Staged dyData, wData, dxData, xWeights, dyWeights, dwWeights;

        Backward() {
            var engine = OneDnn.engine();
            var dpd = new convolution_backward_data.primitive_desc(new convolution_backward_data.desc(
                    algorithm.convolution_auto, xAny, wAny, yAny, strides, DILATION, padL, padR), engine, forwardDesc);
            var wpd = new convolution_backward_weights.primitive_desc(new convolution_backward_weights.desc(
                    weightGradient(weightDims, strides, outDims), xAny, wAny, bAny, yAny, strides, DILATION, padL,
                    padR), engine, forwardDesc);
            data = new convolution_backward_data(dpd);
            weights = new convolution_backward_weights(wpd);
            dyData = Staged.of(dy, dpd.diff_dst_desc(), DY_DATA, true);
            wData = Staged.of(w, dpd.weights_desc(), W, true);
            dxData = Staged.of(dx, dpd.diff_src_desc(), GRAD, false);
            xWeights = Staged.of(x, wpd.src_desc(), X, true);
            // the data gradient's copy of the output gradient serves the weight gradient too where layouts agree
            boolean sharedDy = inputGradient && dyData != null && wpd.diff_dst_desc().equals(dpd.diff_dst_desc());
            dyWeights = sharedDy ? null : Staged.of(dy, wpd.diff_dst_desc(), DY_WEIGHTS, true);
            // the weight gradient may share the GRAD slot: the data gradient is copied out before it runs
            dwWeights = Staged.of(dw, wpd.diff_weights_desc(), GRAD, false);
            dataArgs.put(DNNL_ARG_DIFF_DST, kernel(dyData, dy));
            dataArgs.put(DNNL_ARG_WEIGHTS, kernel(wData, w));
            dataArgs.put(DNNL_ARG_DIFF_SRC, kernel(dxData, dx));
            weightsArgs.put(DNNL_ARG_SRC, kernel(xWeights, x));
            weightsArgs.put(DNNL_ARG_DIFF_DST, sharedDy ? dyData.kernel : kernel(dyWeights, dy));
            weightsArgs.put(DNNL_ARG_DIFF_WEIGHTS, kernel(dwWeights, dw));
            weightsArgs.put(DNNL_ARG_DIFF_BIAS, db);
        }
    }

    /**
     * The weight gradient's algorithm. oneDNN's own choice ("auto") is right for the forward and data-gradient passes
     * but not here: timed alone on 2 AVX-512 cores (docs/benchmarks.md), Winograd takes 1.1-1.8 ms where the direct
     * kernel takes 2.5-2.6 for 3x3 stride-1 convolutions on maps of 8 px and more, and 4.0 against 2.9 on 4 px maps,
     * while "auto" picks direct for the first and Winograd for the second.
     */
    static algorithm weightGradient(long[] weights, long[] strides, long[] out) {
        boolean winograd = weights[2] == 3 && weights[3] == 3 && strides[0] == 1 && strides[1] == 1
                && out[2] >= 8 && out[3] >= 8;
        return winograd ? algorithm.convolution_winograd : algorithm.convolution_direct;
    }

    /** out = conv(in, weights) + bias; all arrays c-ordered and contiguous. */
    void forward(INDArray in, INDArray weights, INDArray bias, INDArray out) {
        stream s = OneDnn.stream();
        OneDnn.bind(x, in);
        OneDnn.bind(w, weights);
        OneDnn.bind(b, bias);
        OneDnn.bind(y, out);
        Staged.in(fx, s);
        Staged.in(fw, s);
        Staged.scratch(fy);
        forward.execute(s, forwardArgs);
        Staged.out(fy, s);
        s._wait();
    }

    /** Gradients of weights and bias (and of the input when it was asked for) from the output's gradient. */
    void backward(INDArray in, INDArray weights, INDArray gradOut, INDArray gradIn, INDArray gradWeights,
                  INDArray gradBias) {
        if (backward == null) {
            backward = new Backward();
        }
        Backward bw = backward;
        stream s = OneDnn.stream();
        OneDnn.bind(x, in);
        OneDnn.bind(w, weights);
        OneDnn.bind(dy, gradOut);
        OneDnn.bind(dw, gradWeights);
        OneDnn.bind(db, gradBias);
        if (inputGradient) {
            OneDnn.bind(dx, gradIn);
            Staged.in(bw.dyData, s);
            Staged.in(bw.wData, s);
            Staged.scratch(bw.dxData);
            bw.data.execute(s, dataArgs);
            Staged.out(bw.dxData, s);
        }
        Staged.in(bw.xWeights, s);
        Staged.in(bw.dyWeights, s);
        Staged.scratch(bw.dwWeights);
        bw.weights.execute(s, weightsArgs);
        Staged.out(bw.dwWeights, s);
        s._wait();
    }

    private static memory user(long[] dims, memory.format_tag tag) {
        return OneDnn.userMemory(new memory.desc(dims, F32, tag));
    }

    private static memory kernel(Staged staged, memory user) {
        return staged == null ? user : staged.kernel;
    }

    /** A kernel-layout copy of a user memory in a scratch slot, with the reorder between the two. */
    private static final class Staged {
        final memory kernel;
        final memory user;
        final int slot;
        final primitive reorder;
        final IntMemoryMap args = new IntMemoryMap();

        private Staged(memory user, memory.desc kernelDesc, int slot, boolean toKernel) {
            this.user = user;
            this.slot = slot;
            this.kernel = OneDnn.userMemory(kernelDesc);
            memory from = toKernel ? user : kernel;
            memory to = toKernel ? kernel : user;
            this.reorder = new reorder(from, to);
            args.put(DNNL_ARG_FROM, from);
            args.put(DNNL_ARG_TO, to);
        }

        static Staged of(memory user, memory.desc kernelDesc, int slot, boolean toKernel) {
            return kernelDesc.equals(user.get_desc()) ? null : new Staged(user, kernelDesc, slot, toKernel);
        }

        static void scratch(Staged s) {
            if (s != null) {
                s.kernel.set_data_handle(OneDnn.scratch(s.slot, s.kernel.get_desc().get_size()));
            }
        }

        static void in(Staged s, stream st) {
            if (s != null) {
                scratch(s);
                s.reorder.execute(st, s.args);
            }
        }

        static void out(Staged s, stream st) {
            if (s != null) {
                s.reorder.execute(st, s.args);
            }
        }
    }
}
