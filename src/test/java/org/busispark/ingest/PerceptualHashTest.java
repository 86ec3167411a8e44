package org.busispark.ingest;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PerceptualHashTest {
    /** A smooth random "scan": sums of a few random blobs, so that it has low-frequency structure. */
    private static DecodedImage scan(long seed, int w, int h) {
        Random r = new Random(seed);
        double[][] blobs = new double[6][];
        for (int i = 0; i < blobs.length; i++) {
            blobs[i] = new double[] {r.nextDouble() * w, r.nextDouble() * h, 20 + r.nextDouble() * 80, r.nextDouble() * 200};
        }
        byte[] px = new byte[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double v = 20;
                for (double[] b : blobs) {
                    double d2 = (x - b[0]) * (x - b[0]) + (y - b[1]) * (y - b[1]);
                    v += b[3] * Math.exp(-d2 / (2 * b[2] * b[2]));
                }
                px[y * w + x] = (byte) Math.min(255, (int) v);
            }
        }
        return new DecodedImage(w, h, px, 1, "png");
    }

    private static DecodedImage map(DecodedImage img, java.util.function.IntUnaryOperator f) {
        byte[] px = new byte[img.gray().length];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) Math.max(0, Math.min(255, f.applyAsInt(img.gray()[i] & 0xff)));
        }
        return new DecodedImage(img.width(), img.height(), px, 1, "png");
    }

    @Test
    void hashHasBitZeroClearAnd31BitsSet() {
        long h = PerceptualHash.of(scan(1, 300, 200));
        assertEquals(0, h & 1);
        assertEquals(31, Long.bitCount(h));
    }

    @Test
    void smallEditsStayCloseAndOtherImagesAreFar() {
        DecodedImage a = scan(1, 300, 200);
        long h = PerceptualHash.of(a);
        assertEquals(0, PerceptualHash.distance(h, PerceptualHash.of(map(a, v -> v + 10))), "brightness shift");
        assertTrue(PerceptualHash.distance(h, PerceptualHash.of(map(a, v -> v * 9 / 10 + 3))) <= 4, "contrast change");
        // A caliper mark burned into a corner.
        byte[] marked = a.gray().clone();
        for (int y = 10; y < 20; y++) {
            for (int x = 10; x < 20; x++) {
                marked[y * 300 + x] = (byte) 255;
            }
        }
        assertTrue(PerceptualHash.distance(h, PerceptualHash.of(new DecodedImage(300, 200, marked, 1, "png"))) <= 4);
        int far = 0;
        for (long s = 2; s < 12; s++) {
            far += PerceptualHash.distance(h, PerceptualHash.of(scan(s, 300, 200))) > 8 ? 1 : 0;
        }
        assertTrue(far >= 9, "unrelated images are beyond the default distance: " + far + "/10");
    }

    @Test
    void resizedCopyKeepsItsHash() {
        DecodedImage a = scan(3, 400, 300);
        // Nearest-neighbour half-size copy.
        byte[] half = new byte[200 * 150];
        for (int y = 0; y < 150; y++) {
            for (int x = 0; x < 200; x++) {
                half[y * 200 + x] = a.gray()[(2 * y) * 400 + 2 * x];
            }
        }
        assertTrue(PerceptualHash.distance(PerceptualHash.of(a), PerceptualHash.of(new DecodedImage(200, 150, half, 1, "png"))) <= 2);
    }
}
