package org.busispark.model.onednn;

import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.AdaBeliefUpdater;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.AdaBelief;
import org.nd4j.linalg.learning.config.Adam;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Map;

/**
 * Adam and AdaBelief on {@link MomentPrimitives}. DL4J makes a block's updater once, from its configuration, and keeps
 * it in a private field; these subclasses take its place with the same configuration and the same state views, so
 * the updater state DL4J saves, averages and restores is unchanged. Arrays oneDNN cannot take (not float, not
 * contiguous) go to DL4J's own op.
 */
final class OneDnnUpdaters {
    private static final Field UPDATER = field();
    /**
     * Primitives by rule, length and constants, per thread, as for the convolutions: dl4j-spark's workers build a new
     * network, and so new updaters, for every averaging round.
     */
    private static final ThreadLocal<Map<Key, MomentPrimitives>> PRIMITIVES = ThreadLocal.withInitial(HashMap::new);

    private record Key(MomentPrimitives.Rule rule, long length, double beta1, double beta2, double epsilon) {}

    private OneDnnUpdaters() {}

    /** Puts every Adam and AdaBelief block of {@code graph} on oneDNN; returns how many blocks use it. */
    static int install(ComputationGraph graph) {
        int installed = 0;
        for (UpdaterBlock block : graph.getUpdater().getUpdaterBlocks()) {
            GradientUpdater<?> u = block.getGradientUpdater();
            GradientUpdater<?> replacement = fused(u);
            if (replacement != u) {
                try {
                    UPDATER.set(block, replacement);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
            if (replacement instanceof FusedAdam || replacement instanceof FusedAdaBelief) {
                installed++;
            }
        }
        return installed;
    }

    /** The oneDNN updater that takes {@code u}'s place, sharing its configuration and state; else {@code u}. */
    static GradientUpdater<?> fused(GradientUpdater<?> u) {
        if (u != null && u.getClass() == AdamUpdater.class) {
            AdamUpdater a = (AdamUpdater) u;
            return new FusedAdam(a.getConfig(), a.getM(), a.getV(), a.getGradientReshapeOrder());
        }
        if (u != null && u.getClass() == AdaBeliefUpdater.class) {
            AdaBeliefUpdater a = (AdaBeliefUpdater) u;
            return new FusedAdaBelief(a.getConfig(), a.getM(), a.getS(), a.getGradientReshapeOrder());
        }
        return u;
    }

    /** One step of {@code rule} on oneDNN; false (nothing done) where the arrays do not fit it. */
    private static boolean apply(MomentPrimitives.Rule rule, INDArray gradient, INDArray m, INDArray s, double lr,
                                 double beta1, double beta2, double epsilon, int iteration) {
        if (m == null || !fits(gradient, m, s)) {
            return false;
        }
        PRIMITIVES.get().computeIfAbsent(new Key(rule, gradient.length(), beta1, beta2, epsilon),
                        k -> new MomentPrimitives(rule, k.length(), (float) beta1, (float) beta2, (float) epsilon))
                .apply(gradient, m, s, stepSize(lr, beta1, beta2, epsilon, iteration));
        return true;
    }

    /** e = lr sqrt(1 - b2^(t+1)) / (1 - b1^(t+1)), or eps where that is not a number, as libnd4j computes it. */
    static float stepSize(double lr, double beta1, double beta2, double epsilon, int iteration) {
        float b1t = (float) Math.pow((float) beta1, iteration + 1f);
        float b2t = (float) Math.pow((float) beta2, iteration + 1f);
        float e = (float) lr * (float) Math.sqrt(1f - b2t) / (1f - b1t);
        return Float.isNaN(e) || Float.isInfinite(e) || e == 0 ? (float) epsilon : e;
    }

    /** Whether oneDNN can update these arrays in place: floats of one length and order, each contiguous. */
    static boolean fits(INDArray gradient, INDArray m, INDArray s) {
        for (INDArray a : new INDArray[] {gradient, m, s}) {
            if (a.dataType() != DataType.FLOAT || a.elementWiseStride() != 1 || a.length() != gradient.length()
                    || (!a.isVector() && a.ordering() != gradient.ordering())) {
                return false;
            }
        }
        return true;
    }

    private static Field field() {
        try {
            Field f = UpdaterBlock.class.getDeclaredField("gradientUpdater");
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final class FusedAdam extends AdamUpdater {
        FusedAdam(Adam config, INDArray m, INDArray v, char order) {
            super(config);
            setM(m);
            setV(v);
            setGradientReshapeOrder(order);
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            Adam c = getConfig();
            if (!apply(MomentPrimitives.Rule.ADAM, gradient, getM(), getV(), c.getLearningRate(iteration, epoch),
                    c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration)) {
                super.applyUpdater(gradient, iteration, epoch);
            }
        }
    }

    static final class FusedAdaBelief extends AdaBeliefUpdater {
        FusedAdaBelief(AdaBelief config, INDArray m, INDArray s, char order) {
            super(config);
            setM(m);
            setS(s);
            setGradientReshapeOrder(order);
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            AdaBelief c = getConfig();
            if (!apply(MomentPrimitives.Rule.ADABELIEF, gradient, getM(), getS(), c.getLearningRate(iteration, epoch),
                    c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration)) {
                super.applyUpdater(gradient, iteration, epoch);
            }
        }
    }
}
