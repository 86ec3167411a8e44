package org.busispark.augment;

import org.busispark.ingest.DecodedImage;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PlaneTest {
    /** The definition: each output pixel is the mean of its factor×factor block, scaled to [0, 1]. */
    private static float[] boxReference(DecodedImage image, int factor) {
        int w = image.width(), rw = w / factor, rh = image.height() / factor;
        float[] out = new float[rw * rh];
        float scale = 1f / (255f * factor * factor);
        for (int y = 0; y < rh; y++) {
            for (int x = 0; x < rw; x++) {
                int sum = 0;
                for (int dy = 0; dy < factor; dy++) {
                    for (int dx = 0; dx < factor; dx++) {
                        sum += image.gray()[(y * factor + dy) * w + x * factor + dx] & 0xff;
                    }
                }
                out[y * rw + x] = sum * scale;
            }
        }
        return out;
    }

    @Test
    void reductionIsTheExactBoxMeanForEveryFactor() {
        Random rnd = new Random(3);
        // target 16: factor 1 (shorter side < 64), 2, 3 (with leftover rows and columns), 5.
        for (int[] size : new int[][] {{40, 50}, {70, 64}, {101, 98}, {163, 171}}) {
            byte[] px = new byte[size[0] * size[1]];
            rnd.nextBytes(px);
            DecodedImage image = new DecodedImage(size[0], size[1], px, 1, "png");
            int factor = Math.max(1, Math.min(size[0], size[1]) / 32);
            Plane p = Plane.reduced(image, 16);
            assertEquals(size[0] / factor, p.width());
            assertEquals(size[1] / factor, p.height());
            assertArrayEquals(boxReference(image, factor), p.pixels(), size[0] + "x" + size[1]);
        }
    }
}
