package org.busispark.evaluate;

import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.ROCMultiClass;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvaluationResultTest {
    private static final List<String> CLASSES = List.of("benign", "malignant", "normal");

    /** Noisy but informative random predictions (no ties: DL4J's ROC does not average tied ranks). */
    private static float[][] predictions(int[] truth, long seed) {
        Random r = new Random(seed);
        float[][] p = new float[truth.length][3];
        for (int i = 0; i < truth.length; i++) {
            double[] logits = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
            logits[truth[i]] += 1.2;
            double z = 0;
            for (double l : logits) {
                z += Math.exp(l);
            }
            for (int c = 0; c < 3; c++) {
                p[i][c] = (float) (Math.exp(logits[c]) / z);
            }
        }
        return p;
    }

    private static int[] truth(int n, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(10) < 5 ? 0 : r.nextInt(10) < 6 ? 1 : 2;
        }
        return t;
    }

    @Test
    void aucMatchesDl4jExactRoc() {
        int[] t = truth(400, 1);
        float[][] p = predictions(t, 2);
        EvaluationResult res = EvaluationResult.compute(t, p, CLASSES, 0, 0);
        ROCMultiClass roc = new ROCMultiClass(0); // exact mode
        float[][] oneHot = new float[t.length][3];
        for (int i = 0; i < t.length; i++) {
            oneHot[i][t[i]] = 1;
        }
        roc.eval(Nd4j.create(oneHot), Nd4j.create(p));
        for (int c = 0; c < 3; c++) {
            assertEquals(roc.calculateAUC(c), res.rocAuc().get(CLASSES.get(c)), 1e-6, CLASSES.get(c));
        }
        assertEquals(res.rocAuc().values().stream().mapToDouble(Double::doubleValue).average().orElseThrow(),
                res.macroRocAuc(), 1e-12);
    }

    @Test
    void handWorkedBinaryViewAndAuc() {
        // 4 malignant (index 1), 4 others. Predictions: 3 malignant found, 1 missed, 1 false alarm.
        int[] t = {1, 1, 1, 1, 0, 0, 2, 2};
        float[][] p = {
                {0.1f, 0.8f, 0.1f}, {0.2f, 0.7f, 0.1f}, {0.3f, 0.6f, 0.1f}, {0.6f, 0.3f, 0.1f},
                {0.4f, 0.5f, 0.1f}, {0.8f, 0.1f, 0.1f}, {0.1f, 0.2f, 0.7f}, {0.2f, 0.0f, 0.8f}};
        EvaluationResult r = EvaluationResult.compute(t, p, CLASSES, 0, 0);
        EvaluationResult.Binary b = r.malignantVsRest();
        assertEquals(4, b.support());
        assertEquals(3 / 4.0, b.sensitivity(), 1e-12);
        assertEquals(3 / 4.0, b.specificity(), 1e-12);
        assertEquals(3 / 4.0, b.precision(), 1e-12);
        assertEquals(6 / 8.0, b.accuracy(), 1e-12);
        // Malignant scores: positives .8 .7 .6 .3, negatives .5 .1 .2 .0 → 15 of 16 pairs ordered right.
        assertEquals(15 / 16.0, b.rocAuc(), 1e-12);
        assertEquals(b.rocAuc(), r.rocAuc().get("malignant"), 1e-12);
        List<double[]> curve = r.rocCurves().get("malignant");
        assertEquals(0, curve.get(0)[0]);
        assertEquals(1, curve.get(curve.size() - 1)[0]);
        assertEquals(1, curve.get(curve.size() - 1)[1]);
    }

    @Test
    void tiedScoresCountHalf() {
        // Malignant scores: positives .5 .9, negatives .5 .1 → pairs: (.5,.5) tie = ½, others ordered → 3.5/4.
        int[] t = {1, 1, 0, 2};
        float[][] p = {{0.25f, 0.5f, 0.25f}, {0.05f, 0.9f, 0.05f}, {0.25f, 0.5f, 0.25f}, {0.1f, 0.1f, 0.8f}};
        assertEquals(3.5 / 4, EvaluationResult.compute(t, p, CLASSES, 0, 0).rocAuc().get("malignant"), 1e-12);
    }

    @Test
    void calibrationErrorFollowsItsDefinition() {
        // All predictions at confidence 0.9; 6 of 10 right: ECE = |0.6 − 0.9| = 0.3 in one bin.
        int[] t = new int[10];
        float[][] p = new float[10][];
        for (int i = 0; i < 10; i++) {
            t[i] = i < 6 ? 0 : 2;
            p[i] = new float[] {0.9f, 0.05f, 0.05f};
        }
        EvaluationResult r = EvaluationResult.compute(t, p, CLASSES, 0, 0);
        assertEquals(0.3, r.expectedCalibrationError(), 1e-6);
        assertEquals(1, r.reliability().size());
        assertEquals(10, r.reliability().get(0)[2]);
    }

    @Test
    void bootstrapIntervalsBracketTheEstimateAndAreReproducible() {
        int[] t = truth(300, 5);
        float[][] p = predictions(t, 6);
        EvaluationResult a = EvaluationResult.compute(t, p, CLASSES, 500, 42);
        EvaluationResult b = EvaluationResult.compute(t, p, CLASSES, 500, 42);
        for (String k : new String[] {"accuracy", "macroF1", "macroRocAuc"}) {
            EvaluationResult.Interval ci = a.confidenceIntervals().get(k);
            assertTrue(ci.lower() <= ci.estimate() && ci.estimate() <= ci.upper(), k + " " + ci);
            assertTrue(ci.upper() - ci.lower() > 0.01 && ci.upper() - ci.lower() < 0.3, k + " width " + ci);
            assertEquals(ci, b.confidenceIntervals().get(k));
        }
        // Accuracy's interval is close to the normal approximation ±1.96·sqrt(p(1-p)/n).
        EvaluationResult.Interval acc = a.confidenceIntervals().get("accuracy");
        double half = 1.96 * Math.sqrt(acc.estimate() * (1 - acc.estimate()) / t.length);
        assertEquals(2 * half, acc.upper() - acc.lower(), 0.03);
    }

    @Test
    void setWithoutNormalImagesAveragesOverItsClasses() {
        // A three-class model on a benign/malignant site (as BUS-BRA): some images are still predicted normal.
        int[] t = truth(300, 7);
        for (int i = 0; i < t.length; i++) {
            t[i] = Math.min(t[i], 1);
        }
        float[][] p = predictions(t, 8);
        EvaluationResult r = EvaluationResult.compute(t, p, CLASSES, 300, 9);
        Metrics m = r.metrics();
        assertTrue(m.confusionMatrix()[0][2] + m.confusionMatrix()[1][2] > 0, "some images predicted normal");
        assertEquals((m.perClass().get(0).f1() + m.perClass().get(1).f1()) / 2, m.macroF1(), 1e-12);
        assertTrue(Double.isNaN(m.perClass().get(2).f1()) && Double.isNaN(r.rocAuc().get("normal")));
        assertFalse(r.rocCurves().containsKey("normal"), "no ROC curve without positives");
        assertEquals((r.rocAuc().get("benign") + r.rocAuc().get("malignant")) / 2, r.macroRocAuc(), 1e-12);
        // The resamples average over the same classes: their interval brackets the two-class estimate.
        for (String k : new String[] {"accuracy", "macroF1", "macroRocAuc"}) {
            EvaluationResult.Interval ci = r.confidenceIntervals().get(k);
            assertTrue(ci.lower() <= ci.estimate() && ci.estimate() <= ci.upper(), k + " " + ci);
        }
        assertTrue(Double.isFinite(r.malignantVsRest().sensitivity()) && Double.isFinite(r.malignantVsRest().rocAuc()));
    }

    @Test
    void binaryViewWithoutMalignantImagesHasNoSensitivity() {
        int[] t = {0, 0, 2, 2};
        float[][] p = {{0.7f, 0.2f, 0.1f}, {0.2f, 0.7f, 0.1f}, {0.1f, 0.1f, 0.8f}, {0.1f, 0.2f, 0.7f}};
        EvaluationResult.Binary b = EvaluationResult.compute(t, p, CLASSES, 0, 0).malignantVsRest();
        assertEquals(0, b.support());
        assertTrue(Double.isNaN(b.sensitivity()) && Double.isNaN(b.f1()) && Double.isNaN(b.rocAuc()), b.toString());
        assertEquals(3 / 4.0, b.specificity(), 1e-12);
        assertEquals(0, b.precision(), 1e-12, "one false alarm");
    }

    @Test
    void noMalignantClassMeansNoBinaryView() {
        EvaluationResult r = EvaluationResult.compute(new int[] {0, 1}, new float[][] {{0.7f, 0.3f}, {0.2f, 0.8f}},
                List.of("cat", "dog"), 0, 0);
        assertNull(r.malignantVsRest());
        assertEquals(1.0, r.macroRocAuc(), 1e-12);
    }
}
