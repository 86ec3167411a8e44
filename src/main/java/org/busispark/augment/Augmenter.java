package org.busispark.augment;

import org.busispark.config.BusiConfig;
import org.busispark.ingest.DecodedImage;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * The training-time transform: random resized crop, flips and rotation in one affine resampling, then
 * Gaussian blur and random erasing. The random draws depend only on (seed, epoch, image id), so the same
 * image gets the same transform in the same epoch however the data is partitioned. With the image's lesion box
 * (from its mask, training only), a share of the crops is placed to keep the whole lesion: a crop that cuts the
 * lesion away teaches the network that a lesion-free patch is malignant.
 */
public final class Augmenter implements Serializable {
    private final BusiConfig.Augment cfg;
    private final int size;

    public Augmenter(BusiConfig.Augment cfg, int size) {
        this.cfg = cfg;
        this.size = size;
    }

    public float[] augment(DecodedImage image, long seed, int epoch, String imageId) {
        return augment(image, null, seed, epoch, imageId);
    }

    /** @param lesion the lesion's box from the image's mask, or null (no mask, or no lesion) */
    public float[] augment(DecodedImage image, LesionBox lesion, long seed, int epoch, String imageId) {
        SplittableRandom rnd = new SplittableRandom(mix(seed, epoch, imageId));
        Plane src = Plane.reduced(image, size);
        float[] out = src.sample(size, randomGeometry(rnd, src.width(), src.height(), lesion));
        jitter(out, uniform(rnd, -cfg.brightness(), cfg.brightness()), uniform(rnd, 1 - cfg.contrast(), 1 + cfg.contrast()));
        if (rnd.nextDouble() < cfg.blurProbability() && cfg.blurSigmaMax() > 0) {
            gaussianBlur(out, size, 0.1 + rnd.nextDouble() * Math.max(0, cfg.blurSigmaMax() - 0.1));
        }
        if (rnd.nextDouble() < cfg.erasingProbability() && cfg.erasingAreaMax() > 0) {
            erase(out, rnd);
        }
        return out;
    }

    private Affine randomGeometry(SplittableRandom rnd, int w, int h, LesionBox lesion) {
        double area = w * (double) h * uniform(rnd, cfg.cropScaleMin(), cfg.cropScaleMax());
        double logRatio = uniform(rnd, Math.log(cfg.cropRatioMin()), Math.log(cfg.cropRatioMax()));
        double ratio = Math.exp(logRatio);
        double cw = Math.min(w, Math.sqrt(area * ratio));
        double ch = Math.min(h, Math.sqrt(area / ratio));
        double ux = rnd.nextDouble();
        double tx = uniform(rnd, -cfg.translate(), cfg.translate()) * w;
        double uy = rnd.nextDouble();
        double ty = uniform(rnd, -cfg.translate(), cfg.translate()) * h;
        double angle = Math.toRadians(uniform(rnd, -cfg.rotationDegrees(), cfg.rotationDegrees()));
        boolean flipH = rnd.nextDouble() < cfg.horizontalFlip();
        boolean flipV = rnd.nextDouble() < cfg.verticalFlip();
        // Drawn last and only when in use, so that every other setting keeps its transforms.
        boolean keepLesion = lesion != null && cfg.lesionCrop() > 0 && rnd.nextDouble() < cfg.lesionCrop();
        double cx = keepLesion ? centreOver(ux, cw, w, lesion.x0() * w, lesion.x1() * w) : cw / 2 + ux * (w - cw);
        double cy = keepLesion ? centreOver(uy, ch, h, lesion.y0() * h, lesion.y1() * h) : ch / 2 + uy * (h - ch);
        return Affine.crop(cx + tx, cy + ty, cw, ch, angle, flipH, flipV, size);
    }

    /**
     * A crop centre, at fraction {@code u} of the range where a crop of {@code length} inside {@code [0, side]}
     * covers the lesion's {@code [lo, hi]}; the lesion's centre when the lesion is longer than the crop.
     */
    static double centreOver(double u, double length, double side, double lo, double hi) {
        double from = Math.max(length / 2, hi - length / 2);
        double to = Math.min(side - length / 2, lo + length / 2);
        return from <= to ? from + u * (to - from) : (lo + hi) / 2;
    }

    /** Contrast about the image mean, then a brightness shift, clamped to [0, 1]; in place. */
    static void jitter(float[] img, double brightness, double contrast) {
        if (brightness == 0 && contrast == 1) {
            return;
        }
        double mean = 0;
        for (float v : img) {
            mean += v;
        }
        mean /= img.length;
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) Math.max(0, Math.min(1, (img[i] - mean) * contrast + mean + brightness));
        }
    }

    /** Replaces one random rectangle with the image's mean intensity (neutral after normalisation). */
    private void erase(float[] img, SplittableRandom rnd) {
        double area = size * size * uniform(rnd, 0.02, Math.max(0.02, cfg.erasingAreaMax()));
        double ratio = Math.exp(uniform(rnd, Math.log(0.3), Math.log(3.3)));
        int ew = (int) Math.min(size, Math.round(Math.sqrt(area * ratio)));
        int eh = (int) Math.min(size, Math.round(Math.sqrt(area / ratio)));
        int x0 = rnd.nextInt(size - ew + 1), y0 = rnd.nextInt(size - eh + 1);
        double sum = 0;
        for (float v : img) {
            sum += v;
        }
        float fill = (float) (sum / img.length);
        for (int y = y0; y < y0 + eh; y++) {
            java.util.Arrays.fill(img, y * size + x0, y * size + x0 + ew, fill);
        }
    }

    /** Separable Gaussian blur with clamped borders, in place. */
    static void gaussianBlur(float[] img, int size, double sigma) {
        int radius = Math.max(1, (int) Math.ceil(3 * sigma));
        float[] k = new float[2 * radius + 1];
        float total = 0;
        for (int i = -radius; i <= radius; i++) {
            k[i + radius] = (float) Math.exp(-(i * i) / (2 * sigma * sigma));
            total += k[i + radius];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= total;
        }
        float[] tmp = new float[img.length];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                float s = 0;
                for (int i = -radius; i <= radius; i++) {
                    s += k[i + radius] * img[y * size + Math.min(size - 1, Math.max(0, x + i))];
                }
                tmp[y * size + x] = s;
            }
        }
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                float s = 0;
                for (int i = -radius; i <= radius; i++) {
                    s += k[i + radius] * tmp[Math.min(size - 1, Math.max(0, y + i)) * size + x];
                }
                img[y * size + x] = s;
            }
        }
    }

    private static double uniform(SplittableRandom rnd, double lo, double hi) {
        return hi <= lo ? lo : lo + rnd.nextDouble() * (hi - lo);
    }

    /** A 64-bit seed from (seed, epoch, image id) that does not depend on String.hashCode's weak mixing. */
    static long mix(long seed, int epoch, String imageId) {
        long h = seed * 0x9E3779B97F4A7C15L + epoch;
        for (byte b : imageId.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ b) * 0x100000001B3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        return h ^ (h >>> 33);
    }
}
