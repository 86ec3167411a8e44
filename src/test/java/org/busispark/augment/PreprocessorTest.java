package org.busispark.augment;

import org.busispark.ingest.DecodedImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.*;

class PreprocessorTest {
    private static final int SIZE = 16;

    /** The mean of the k×k block of source pixels that output pixel (u, v) covers, on the [0, 1] scale. */
    private static float blockMean(DecodedImage image, int u, int v, int k) {
        double sum = 0;
        for (int y = v * k; y < (v + 1) * k; y++) {
            for (int x = u * k; x < (u + 1) * k; x++) {
                sum += image.gray()[y * image.width() + x] & 0xff;
            }
        }
        return (float) (sum / (k * k * 255.0));
    }

    private static void assertBlockMeans(int factor) {
        DecodedImage image = AugmenterTest.ramp(SIZE * factor, SIZE * factor);
        float[] out = new Preprocessor(SIZE, 1).plain(image);
        assertEquals(SIZE * SIZE, out.length);
        for (int v = 0; v < SIZE; v++) {
            for (int u = 0; u < SIZE; u++) {
                assertEquals(blockMean(image, u, v, factor), out[v * SIZE + u], 1e-5f, "at " + u + "," + v);
            }
        }
    }

    @Test
    void plainAtSameSizeIsPixelsOver255() {
        assertBlockMeans(1);
    }

    @Test
    void plainHalvingAveragesTwoByTwoBlocks() {
        assertBlockMeans(2);
    }

    @Test
    void plainQuarteringAveragesFourByFourBlocks() {
        assertBlockMeans(4);
    }

    @ParameterizedTest
    @CsvSource({"100, 60", "20, 20", "7, 45"}) // shrinking, enlarging, and both at once
    void plainOfUniformImageIsUniform(int w, int h) {
        byte[] px = new byte[w * h];
        java.util.Arrays.fill(px, (byte) 200);
        for (float v : new Preprocessor(SIZE, 1).plain(new DecodedImage(w, h, px, 1, "png"))) {
            assertEquals(200 / 255f, v, 1e-5f);
        }
    }

    @Test
    void toInputNormalisesAndRepeatsOverChannels() {
        float[] plane = {0f, 0.5f, 1f, 0.25f};
        float[] out = new Preprocessor(2, 3).toInput(plane, new Normalization(0.5, 0.25));
        // (v - 0.5) / 0.25 for each value, once per channel (CHW).
        float[] expected = {-2, 0, 2, -1, -2, 0, 2, -1, -2, 0, 2, -1};
        assertArrayEquals(expected, out, 1e-6f);
        assertArrayEquals(new long[] {5, 3, 2, 2}, new Preprocessor(2, 3).inputShape(5));
    }

    @Test
    void normalizationFromMomentsMatchesDirectComputation() {
        java.util.Random rnd = new java.util.Random(5);
        double[] values = new double[5000];
        double sum = 0, sumSquares = 0;
        for (int i = 0; i < values.length; i++) {
            values[i] = rnd.nextDouble() * rnd.nextDouble();
            sum += values[i];
            sumSquares += values[i] * values[i];
        }
        double mean = java.util.Arrays.stream(values).average().orElseThrow();
        double variance = java.util.Arrays.stream(values).map(v -> (v - mean) * (v - mean)).sum() / values.length;
        Normalization n = Normalization.fromMoments(sum, sumSquares, values.length);
        assertEquals(mean, n.mean(), 1e-12);
        assertEquals(Math.sqrt(variance), n.std(), 1e-9);
    }

    @Test
    void normalizationOfConstantPixelsStaysUsable() {
        Normalization n = Normalization.fromMoments(0.3 * 100, 0.09 * 100, 100);
        assertEquals(0.3, n.mean(), 1e-12);
        assertTrue(n.std() > 0 && n.std() < 1e-3);
        assertThrows(IllegalArgumentException.class, () -> new Normalization(0.5, 0));
    }
}
