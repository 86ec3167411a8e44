package org.busispark.evaluate;

import org.busispark.model.Origin;
import org.busispark.model.Prediction;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class MetricsTest {
    private static final List<String> CLASSES = List.of("a", "b", "c");
    private static final int[] TRUTH = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    private static final float[][] PROBS = {
            {0.7f, 0.2f, 0.1f}, {0.6f, 0.3f, 0.1f}, {0.2f, 0.5f, 0.3f}, {0.1f, 0.1f, 0.8f},
            {0.3f, 0.6f, 0.1f}, {0.1f, 0.8f, 0.1f}, {0.5f, 0.4f, 0.1f},
            {0.2f, 0.2f, 0.6f}, {0.1f, 0.6f, 0.3f}, {0.25f, 0.25f, 0.5f}};

    private static MetricsAccumulator add(MetricsAccumulator acc, int from, int to) {
        for (int i = from; i < to; i++) {
            acc.add(TRUTH[i], PROBS[i]);
        }
        return acc;
    }

    private static Metrics all() {
        return Metrics.from(add(new MetricsAccumulator(3), 0, TRUTH.length), CLASSES);
    }

    private static void assertClass(Metrics.ClassMetrics m, String label, double p, double r, double f1, long support) {
        assertEquals(label, m.label());
        assertEquals(p, m.precision(), 1e-12, label + " precision");
        assertEquals(r, m.recall(), 1e-12, label + " recall");
        assertEquals(f1, m.f1(), 1e-12, label + " f1");
        assertEquals(support, m.support(), label + " support");
    }

    @Test
    void handComputedExample() {
        Metrics m = all();
        // Predicted (argmax): 0 0 1 2 | 1 1 0 | 2 1 2.
        assertArrayEquals(new long[][] {{2, 1, 1}, {1, 2, 0}, {0, 1, 2}}, m.confusionMatrix());
        assertEquals(10, m.count());
        assertEquals(0.6, m.accuracy(), 1e-12);
        // a: P 2/3 R 2/4 F1 4/7; b: P 2/4 R 2/3 F1 4/7; c: P 2/3 R 2/3 F1 2/3.
        assertClass(m.perClass().get(0), "a", 2 / 3.0, 0.5, 4 / 7.0, 4);
        assertClass(m.perClass().get(1), "b", 0.5, 2 / 3.0, 4 / 7.0, 3);
        assertClass(m.perClass().get(2), "c", 2 / 3.0, 2 / 3.0, 2 / 3.0, 3);
        assertEquals(38 / 63.0, m.macroF1(), 1e-12);
        double loss = -Math.log(0.7 * 0.6 * 0.2 * 0.1 * 0.6 * 0.8 * 0.4 * 0.6 * 0.3 * 0.5) / 10;
        assertEquals(loss, m.averageLoss(), 1e-6);
    }

    @Test
    void mergingHalvesEqualsAddingAll() {
        Metrics merged = Metrics.from(add(new MetricsAccumulator(3), 0, 4).merge(add(new MetricsAccumulator(3), 4, 10)),
                CLASSES);
        Metrics all = all();
        assertArrayEquals(all.confusionMatrix(), merged.confusionMatrix());
        assertEquals(all.perClass(), merged.perClass());
        assertEquals(all.accuracy(), merged.accuracy());
        assertEquals(all.averageLoss(), merged.averageLoss(), 1e-12);
    }

    @Test
    void neverPredictedClassHasZeroPrecision() {
        MetricsAccumulator acc = new MetricsAccumulator(3);
        acc.add(0, new float[] {0.9f, 0.1f, 0f});
        acc.add(1, new float[] {0.2f, 0.7f, 0.1f});
        acc.add(2, new float[] {0.6f, 0.3f, 0.1f});
        Metrics m = Metrics.from(acc, CLASSES);
        assertClass(m.perClass().get(2), "c", 0, 0, 0, 1);
        assertClass(m.perClass().get(0), "a", 0.5, 1, 2 / 3.0, 1);
        assertEquals((2 / 3.0 + 1 + 0) / 3, m.macroF1(), 1e-12);
    }

    @Test
    void classAbsentFromTheSetHasNoMetricsAndStaysOutOfMacroF1() {
        // Truth only a and b (a site without c); one image of each is predicted c, which is still an error.
        MetricsAccumulator acc = new MetricsAccumulator(3);
        acc.add(0, new float[] {0.8f, 0.1f, 0.1f});
        acc.add(0, new float[] {0.6f, 0.3f, 0.1f});
        acc.add(0, new float[] {0.1f, 0.2f, 0.7f});
        acc.add(1, new float[] {0.2f, 0.7f, 0.1f});
        acc.add(1, new float[] {0.3f, 0.1f, 0.6f});
        Metrics m = Metrics.from(acc, CLASSES);
        // a: P 2/2 R 2/3 F1 4/5; b: P 1/1 R 1/2 F1 2/3.
        assertClass(m.perClass().get(0), "a", 1, 2 / 3.0, 0.8, 3);
        assertClass(m.perClass().get(1), "b", 1, 0.5, 2 / 3.0, 2);
        Metrics.ClassMetrics c = m.perClass().get(2);
        assertEquals(0, c.support());
        assertTrue(Double.isNaN(c.precision()) && Double.isNaN(c.recall()) && Double.isNaN(c.f1()), c.toString());
        assertEquals((0.8 + 2 / 3.0) / 2, m.macroF1(), 1e-12);
        assertEquals(3 / 5.0, m.accuracy(), 1e-12);
    }

    @Test
    void allMetricsWithinUnitInterval() {
        Metrics m = all();
        assertTrue(m.accuracy() >= 0 && m.accuracy() <= 1);
        assertTrue(m.macroF1() >= 0 && m.macroF1() <= 1);
        for (Metrics.ClassMetrics c : m.perClass()) {
            for (double v : new double[] {c.precision(), c.recall(), c.f1()}) {
                assertTrue(v >= 0 && v <= 1, c.toString());
            }
        }
    }

    @Test
    void zeroProbabilityForTruthGivesFiniteLoss() {
        MetricsAccumulator acc = new MetricsAccumulator(2);
        acc.add(1, new float[] {1f, 0f});
        double loss = Metrics.from(acc, List.of("x", "y")).averageLoss();
        assertTrue(Double.isFinite(loss) && loss > 10, "loss " + loss);
    }

    @Test
    void failedOrUnlabelledPredictionsAreIgnored() {
        MetricsAccumulator acc = new MetricsAccumulator(3);
        acc.add(new Prediction("p1", "i1", 0, new float[] {0.8f, 0.1f, 0.1f}, null, Origin.UNKNOWN));
        acc.add(new Prediction("p2", "i2", null, new float[] {0.8f, 0.1f, 0.1f}, null, Origin.UNKNOWN));
        acc.add(new Prediction("p3", "i3", 1, null, "corrupt-image", Origin.UNKNOWN));
        Metrics m = Metrics.from(acc, CLASSES);
        assertEquals(1, m.count());
        assertEquals(1.0, m.accuracy());
    }

    @Test
    void emptyAccumulatorGivesZeros() {
        Metrics m = Metrics.from(new MetricsAccumulator(3), CLASSES);
        assertEquals(0, m.count());
        assertEquals(0, m.accuracy());
        assertEquals(0, m.averageLoss());
        assertEquals(0, m.macroF1());
    }
}
