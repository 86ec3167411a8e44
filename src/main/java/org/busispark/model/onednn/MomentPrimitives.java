package org.busispark.model.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.algorithm;

/**
 * Adam's and AdaBelief's update of one block of parameters as three vectorised oneDNN passes (binary primitives with
 * post-ops), each reading and writing whole arrays once. libnd4j's updater ops compute the same formulas in one
 * scalar loop whose square root and division the compiler leaves unvectorised: 8% of a ResNet-18 training step on
 * two cores (docs/benchmarks.md). Formulas as libnd4j's, with t the iteration and e = lr sqrt(1 - b2^(t+1)) /
 * (1 - b1^(t+1)):
 * <pre>
 *   m = b1 m + (1 - b1) g
 *   Adam:      s = b2 s + (1 - b2) g^2
 *   AdaBelief: s = b2 s + (1 - b2) (g - m)^2 + eps
 *   g = e m / (sqrt(s) + eps)
 * </pre>
 */
final class MomentPrimitives {
    enum Rule { ADAM, ADABELIEF }

    private final memory grad, firstMoment, secondMoment;
    /** Scalars the passes broadcast: 1 - b1, 0, and e, which changes every iteration. */
    private final FloatPointer oneMinusBeta1 = new FloatPointer(1), zero = new FloatPointer(1),
            stepScale = new FloatPointer(1);
    private final primitive first, second, step;
    private final IntMemoryMap firstArgs = new IntMemoryMap(), secondArgs = new IntMemoryMap(),
            stepArgs = new IntMemoryMap();

    MomentPrimitives(Rule rule, long length, float beta1, float beta2, float epsilon) {
        memory.desc vector = new memory.desc(new long[] {length}, memory.data_type.f32, memory.format_tag.a);
        memory.desc scalar = new memory.desc(new long[] {1}, memory.data_type.f32, memory.format_tag.a);
        grad = OneDnn.userMemory(vector);
        firstMoment = OneDnn.userMemory(vector);
        secondMoment = OneDnn.userMemory(vector);
        oneMinusBeta1.put(1 - beta1);
        zero.put(0f);

        // m = (1 - b1) g + b1 m
        post_ops p = new post_ops();
        p.append_sum(beta1, memory.data_type.undef);
        first = binary(algorithm.binary_mul, vector, scalar, p);
        firstArgs.put(DNNL_ARG_SRC_0, grad);
        firstArgs.put(DNNL_ARG_SRC_1, scalar(scalar, oneMinusBeta1));
        firstArgs.put(DNNL_ARG_DST, firstMoment);

        // Adam: s = (1 - b2) g g + b2 s; AdaBelief: s = (1 - b2) (g - m)^2 + eps + b2 s
        p = new post_ops();
        if (rule == Rule.ADABELIEF) {
            p.append_eltwise(1f, algorithm.eltwise_square, 0f, 0f);
        }
        p.append_eltwise(1f, algorithm.eltwise_linear, 1 - beta2, rule == Rule.ADABELIEF ? epsilon : 0f);
        p.append_sum(beta2, memory.data_type.undef);
        second = binary(rule == Rule.ADABELIEF ? algorithm.binary_sub : algorithm.binary_mul, vector, vector, p);
        secondArgs.put(DNNL_ARG_SRC_0, grad);
        secondArgs.put(DNNL_ARG_SRC_1, rule == Rule.ADABELIEF ? firstMoment : grad);
        secondArgs.put(DNNL_ARG_DST, secondMoment);

        // g = e m / (sqrt(s) + eps): s + 0, then the rest as post-ops on it
        p = new post_ops();
        p.append_eltwise(1f, algorithm.eltwise_sqrt, 0f, 0f);
        p.append_eltwise(1f, algorithm.eltwise_linear, 1f, epsilon);
        p.append_eltwise(1f, algorithm.eltwise_pow, 1f, -1f);
        p.append_binary(algorithm.binary_mul, vector); // post-op 3: times m
        p.append_binary(algorithm.binary_mul, scalar); // post-op 4: times e
        step = binary(algorithm.binary_add, vector, scalar, p);
        stepArgs.put(DNNL_ARG_SRC_0, secondMoment);
        stepArgs.put(DNNL_ARG_SRC_1, scalar(scalar, zero));
        stepArgs.put(postOpArg(3), firstMoment);
        stepArgs.put(postOpArg(4), scalar(scalar, stepScale));
        stepArgs.put(DNNL_ARG_DST, grad);
    }

    /**
     * Replaces {@code gradient} by the update, advancing the moments {@code m} and {@code s}; all three are contiguous
     * float arrays of this block's length.
     */
    void apply(INDArray gradient, INDArray m, INDArray s, float stepSize) {
        stepScale.put(stepSize);
        OneDnn.bind(grad, gradient);
        OneDnn.bind(firstMoment, m);
        OneDnn.bind(secondMoment, s);
        stream st = OneDnn.stream();
        first.execute(st, firstArgs);
        second.execute(st, secondArgs);
        step.execute(st, stepArgs);
        st._wait();
    }

    private static memory scalar(memory.desc desc, FloatPointer value) {
        return new memory(desc, OneDnn.engine(), value);
    }

    /** dst = src0 (op) src1, then the post-ops; dst has src0's shape. */
    private static primitive binary(algorithm alg, memory.desc src0, memory.desc src1, post_ops p) {
        primitive_attr attr = new primitive_attr();
        attr.set_post_ops(p);
        return new binary(new binary.primitive_desc(new binary.desc(alg, src0, src1, src0), attr, OneDnn.engine()));
    }

    private static int postOpArg(int index) {
        return DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE * (index + 1) | DNNL_ARG_SRC_1;
    }
}
