package org.busispark.augment;

import java.io.Serializable;

/**
 * How a model's input is normalised: by the pixel mean and standard deviation (of [0, 1] intensities) measured on
 * the training split, or, with {@code perImage}, by each image's own (the split's are then kept for the record).
 * Model cards written before {@code perImage} existed read as false, which is what those models were trained with.
 */
public record Normalization(double mean, double std, boolean perImage) implements Serializable {
    /** Below this an image is flat; its own standard deviation would only amplify noise. */
    static final float MIN_IMAGE_STD = 1e-3f;

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

    /** From a sum, a sum of squares and a count of pixels. */
    public static Normalization fromMoments(double sum, double sumSquares, long count) {
        double mean = sum / count;
        double variance = Math.max(sumSquares / count - mean * mean, 1e-8);
        return new Normalization(mean, Math.sqrt(variance));
    }
}
