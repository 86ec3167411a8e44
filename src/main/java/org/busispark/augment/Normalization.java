package org.busispark.augment;

import java.io.Serializable;

/**
 * How a model's input is normalised: by the pixel mean and standard deviation (of [0, 1] intensities) measured on
 * the training split, or, with {@code perImage}, by each image's own (the split's are then kept for the record).
 * Model cards written before {@code perImage} existed read as false, which is what those models were trained with.
 */
public record Normalization(double mean, double std, boolean perImage) implements Serializable {
    /**
     * ImageNet's, as torchvision's pretrained weights expect: the mean of its three channels' means (0.485, 0.456,
     * 0.406) and standard deviations (0.229, 0.224, 0.225), for the gray image those channels all show here.
     */
    public static final Normalization IMAGENET = new Normalization(0.449, 0.226);

    /** Below this an image is flat; its own standard deviation would only amplify noise. */
    private static final float MIN_IMAGE_STD = 1e-3f;

    public Normalization {
        if (!(std > 0)) {
            throw new IllegalArgumentException("std must be positive, got " + std);
        }
    }

    public Normalization(double mean, double std) {
        this(mean, std, false);
    }

    /** The same, normalising each image by its own mean and standard deviation. */
    public Normalization perImageInstead() {
        return new Normalization(mean, std, true);
    }

    /** An image's own: its plane's mean and standard deviation (at least {@link #MIN_IMAGE_STD}). */
    static Normalization ofImage(float[] plane) {
        double[] m = moments(plane);
        Normalization own = fromMoments(m[0], m[1], plane.length);
        return new Normalization(own.mean, Math.max(own.std, MIN_IMAGE_STD), true);
    }

    /** The sum and the sum of squares of a plane's pixels, in double. */
    public static double[] moments(float[] plane) {
        double s = 0, sq = 0;
        for (float v : plane) {
            s += v;
            sq += v * (double) v;
        }
        return new double[] {s, sq};
    }

    /** From a sum, a sum of squares and a count of pixels. */
    public static Normalization fromMoments(double sum, double sumSquares, long count) {
        double mean = sum / count;
        double variance = Math.max(sumSquares / count - mean * mean, 1e-8);
        return new Normalization(mean, Math.sqrt(variance));
    }
}
