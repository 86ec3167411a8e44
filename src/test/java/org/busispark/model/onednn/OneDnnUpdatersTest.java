package org.busispark.model.onednn;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.AdaBelief;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The oneDNN updaters give DL4J's updates and moments, step after step, with a learning rate that changes. */
class OneDnnUpdatersTest {
    private static final int LENGTH = 100_003; // not a multiple of any vector width

    @Test
    void adamMatchesDl4j() {
        compare(new Adam(new ExponentialSchedule(ScheduleType.ITERATION, 2e-3, 0.7)));
    }

    @Test
    void adaBeliefMatchesDl4j() {
        compare(new AdaBelief.Builder().learningRateSchedule(new ExponentialSchedule(ScheduleType.ITERATION, 2e-3, 0.7))
                .build());
    }

    private static void compare(IUpdater config) {
        INDArray refState = Nd4j.zeros(DataType.FLOAT, 1, 2L * LENGTH);
        INDArray state = Nd4j.zeros(DataType.FLOAT, 1, 2L * LENGTH);
        GradientUpdater<?> ref = config.instantiate(refState, true);
        GradientUpdater<?> fused = OneDnnUpdaters.fused(config.instantiate(state, true));
        assertNotSame(config.instantiate(state, false).getClass(), fused.getClass(), "a oneDNN updater");
        Nd4j.getRandom().setSeed(7);
        for (int iteration = 0; iteration < 5; iteration++) {
            // gradients of mixed scale, some exactly zero
            INDArray g = Nd4j.randn(DataType.FLOAT, 1, LENGTH).muli(Math.pow(10, -iteration));
            g.get(point(0), interval(0, 100)).assign(0);
            INDArray want = g.dup();
            INDArray got = g.dup();
            assertTrue(OneDnnUpdaters.fits(got, state.get(all(), interval(0, LENGTH)),
                    state.get(all(), interval(LENGTH, 2 * LENGTH))), "arrays the oneDNN path takes");
            ref.applyUpdater(want, iteration, 0);
            fused.applyUpdater(got, iteration, 0);
            assertClose("update at iteration " + iteration, want, got);
            assertClose("moments after iteration " + iteration, refState, state);
        }
    }

    private static void assertClose(String what, INDArray want, INDArray got) {
        double scale = want.amaxNumber().doubleValue();
        double diff = want.sub(got).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5 * scale, what + ": max difference " + diff + " against max magnitude " + scale);
    }
}
