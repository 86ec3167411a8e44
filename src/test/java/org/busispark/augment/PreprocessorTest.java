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

    /** Per image: zero mean and unit variance, whatever the image's gain and contrast (a linear change). */
    @Test
    void perImageNormalisationIgnoresGainAndContrast() {
        java.util.Random rnd = new java.util.Random(9);
        float[] plane = new float[64 * 64];
        for (int i = 0; i < plane.length; i++) {
            plane[i] = 0.2f + 0.5f * rnd.nextFloat() * rnd.nextFloat();
        }
        float[] other = new float[plane.length]; // contrast x0.7 about mid-grey, then brighter
        for (int i = 0; i < plane.length; i++) {
            other[i] = (plane[i] - 0.5f) * 0.7f + 0.5f + 0.05f;
        }
        Normalization split = new Normalization(0.4, 0.2);
        Preprocessor pre = new Preprocessor(64, 1);
        float[] a = pre.toInput(plane, split.perImageInstead());
        float[] b = pre.toInput(other, split.perImageInstead());
        double s = 0, sq = 0;
        for (float v : a) {
            s += v;
            sq += v * v;
        }
        assertEquals(0, s / a.length, 1e-5);
        assertEquals(1, sq / a.length, 1e-4);
        assertArrayEquals(a, b, 1e-4f);
        // By the split's statistics the two inputs differ, as they did before.
        assertTrue(Math.abs(pre.toInput(plane, split)[0] - pre.toInput(other, split)[0]) > 0.01);
        // A flat image stays finite.
        for (float v : pre.toInput(new float[16], split.perImageInstead())) {
            assertEquals(0f, v);
        }
    }

    /** Model cards record the choice; cards written before it existed read as the split's statistics. */
    @Test
    void normalisationRoundTripsThroughJson() {
        Normalization perImage = new Normalization(0.4, 0.2).perImageInstead();
        assertEquals(perImage, org.busispark.storage.Json.read(org.busispark.storage.Json.write(perImage), Normalization.class));
        Normalization old = org.busispark.storage.Json.read("{\"mean\": 0.4, \"std\": 0.2}", Normalization.class);
        assertEquals(new Normalization(0.4, 0.2, false), old);
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
