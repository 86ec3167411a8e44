package org.busispark.augment;

import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.ingest.DecodedImage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class AugmenterTest {
    private static final int SIZE = 32;

    /** A horizontally and vertically asymmetric ramp. */
    static DecodedImage ramp(int w, int h) {
        byte[] px = new byte[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                px[y * w + x] = (byte) ((x * 5 + y * 2 + (x * y) % 13) % 256);
            }
        }
        return new DecodedImage(w, h, px, 1, "png");
    }

    /** Everything off except the given flip probabilities; the crop keeps the whole image at its own aspect. */
    private static BusiConfig.Augment identity(double aspect, double flipH, double flipV) {
        return new BusiConfig.Augment(1, 1, aspect, aspect, flipH, flipV, 0, 0, 0, 0, 0, 0, 0, 0, 0, "dataset");
    }

    private static float[] augment(BusiConfig.Augment cfg, DecodedImage image, int epoch) {
        return new Augmenter(cfg, SIZE).augment(image, 7, epoch, "img-1");
    }

    @Test
    void defaultAugmentationStaysInUnitRange() {
        Augmenter aug = new Augmenter(ConfigLoader.defaults().augment(), SIZE);
        DecodedImage image = ramp(50, 40);
        for (int epoch = 0; epoch < 20; epoch++) {
            float[] out = aug.augment(image, 12345, epoch, "id-" + epoch % 3);
            assertEquals(SIZE * SIZE, out.length);
            for (float v : out) {
                assertTrue(v >= 0f && v <= 1f, "value " + v);
            }
        }
    }

    @Test
    void sameSeedEpochAndIdGiveTheSameTransform() {
        BusiConfig.Augment cfg = ConfigLoader.defaults().augment();
        DecodedImage image = ramp(50, 40);
        assertArrayEquals(augment(cfg, image, 3), new Augmenter(cfg, SIZE).augment(image, 7, 3, "img-1"));
        assertFalse(java.util.Arrays.equals(augment(cfg, image, 3), augment(cfg, image, 4)));
        assertFalse(java.util.Arrays.equals(augment(cfg, image, 3),
                new Augmenter(cfg, SIZE).augment(image, 7, 3, "img-2")));
    }

    @Test
    void disabledAugmentationEqualsPlainResize() {
        for (DecodedImage image : new DecodedImage[] {ramp(SIZE, SIZE), ramp(64, 64), ramp(48, 32)}) {
            float[] plain = new Preprocessor(SIZE, 1).plain(image);
            float[] out = augment(identity(image.width() / (double) image.height(), 0, 0), image, 5);
            assertArrayEquals(plain, out, 1e-4f, image.width() + "x" + image.height());
        }
    }

    private static void assertMirror(float[] plain, float[] out, boolean horizontal) {
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int mx = horizontal ? SIZE - 1 - x : x, my = horizontal ? y : SIZE - 1 - y;
                assertEquals(plain[my * SIZE + mx], out[y * SIZE + x], 1e-4f, "at " + x + "," + y);
            }
        }
    }

    @Test
    void horizontalFlipMirrorsColumns() {
        for (DecodedImage image : new DecodedImage[] {ramp(SIZE, SIZE), ramp(64, 64)}) {
            float[] plain = new Preprocessor(SIZE, 1).plain(image);
            assertMirror(plain, augment(identity(1, 1, 0), image, 0), true);
        }
    }

    @Test
    void verticalFlipMirrorsRows() {
        DecodedImage image = ramp(SIZE, SIZE);
        assertMirror(new Preprocessor(SIZE, 1).plain(image), augment(identity(1, 0, 1), image, 0), false);
    }

    @Test
    void erasingFillsARectangleWithOneValue() {
        DecodedImage image = ramp(SIZE, SIZE);
        float[] plain = new Preprocessor(SIZE, 1).plain(image);
        BusiConfig.Augment cfg = new BusiConfig.Augment(1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0.15, 0, "dataset");
        float[] out = augment(cfg, image, 0);
        java.util.Set<Float> changed = new java.util.HashSet<>();
        int count = 0;
        for (int i = 0; i < out.length; i++) {
            if (Math.abs(out[i] - plain[i]) > 1e-4f) {
                changed.add(out[i]);
                count++;
            }
        }
        assertEquals(1, changed.size(), "erased pixels share one fill value");
        // 2%..15% of the area; a few erased pixels may coincide with the fill value already.
        assertTrue(count > 0 && count <= 0.16 * SIZE * SIZE, "erased " + count);
    }

    @Test
    void blurKeepsAConstantImageConstant() {
        float[] img = new float[SIZE * SIZE];
        java.util.Arrays.fill(img, 0.4f);
        Augmenter.gaussianBlur(img, SIZE, 1.0);
        for (float v : img) {
            assertEquals(0.4f, v, 1e-5f);
        }
    }

    @Test
    void brightnessShiftsAndContrastScalesAboutTheMean() {
        float[] img = {0.2f, 0.4f, 0.6f, 0.8f};
        float[] b = img.clone();
        Augmenter.jitter(b, 0.1, 1.0);
        float[] c = img.clone();
        Augmenter.jitter(c, 0.0, 0.5);
        for (int i = 0; i < img.length; i++) {
            assertEquals(img[i] + 0.1f, b[i], 1e-6f);
            assertEquals(0.5f + (img[i] - 0.5f) * 0.5f, c[i], 1e-6f);
        }
        float[] clipped = {0.95f, 0.05f};
        Augmenter.jitter(clipped, 0.2, 1.0);
        assertEquals(1f, clipped[0]);
    }

    /** A dark 100x100 image with a bright 15x15 "lesion" near its bottom-right corner, and that lesion's mask. */
    private static DecodedImage[] cornerLesion() {
        byte[] image = new byte[100 * 100];
        byte[] mask = new byte[100 * 100];
        for (int y = 78; y < 93; y++) {
            for (int x = 80; x < 95; x++) {
                image[y * 100 + x] = (byte) 250;
                mask[y * 100 + x] = (byte) 255;
            }
        }
        return new DecodedImage[] {new DecodedImage(100, 100, image, 1, "png"), new DecodedImage(100, 100, mask, 1, "png")};
    }

    @Test
    void lesionBoxIsTheMasksForegroundAsFractions() {
        DecodedImage mask = cornerLesion()[1];
        assertEquals(new LesionBox(0.80, 0.78, 0.95, 0.93), LesionBox.of(mask));
        assertNull(LesionBox.of(new DecodedImage(10, 10, new byte[100], 1, "png")));
    }

    @Test
    void lesionCropsKeepTheWholeLesionAndPlainCropsSometimesLoseIt() {
        DecodedImage[] lesion = cornerLesion();
        LesionBox box = LesionBox.of(lesion[1]);
        // Small square crops (a quarter of the area), nothing else: the crop alone decides what is seen.
        BusiConfig.Augment plain = new BusiConfig.Augment(0.25, 0.25, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "dataset");
        BusiConfig.Augment keep = new BusiConfig.Augment(0.25, 0.25, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, "dataset");
        int lost = 0;
        for (int epoch = 0; epoch < 40; epoch++) {
            float[] kept = new Augmenter(keep, SIZE).augment(lesion[0], box, 7, epoch, "img-1");
            // 15x15 of 50x50 source pixels, at 32x32: about 9x9 bright pixels when the whole lesion is in.
            assertTrue(bright(kept) >= 64, "epoch " + epoch + ": " + bright(kept) + " bright pixels");
            if (bright(new Augmenter(plain, SIZE).augment(lesion[0], box, 7, epoch, "img-1")) == 0) {
                lost++;
            }
        }
        assertTrue(lost > 10, "plain crops miss a corner lesion most of the time; missed " + lost + " of 40");
    }

    private static int bright(float[] img) {
        int n = 0;
        for (float v : img) {
            n += v > 0.5f ? 1 : 0;
        }
        return n;
    }

    @Test
    void cropCentreCoversTheLesionOrCentresOnIt() {
        for (double u : new double[] {0, 0.3, 1}) {
            double c = Augmenter.centreOver(u, 40, 100, 70, 90);
            assertTrue(c - 20 <= 70 && c + 20 >= 90 && c - 20 >= 0 && c + 20 <= 100, "centre " + c);
        }
        assertEquals(50, Augmenter.centreOver(0.7, 20, 100, 30, 70), 1e-9, "lesion longer than the crop");
    }
}
