package org.busispark.augment;

import java.io.Serializable;

/** Pixel mean and standard deviation (of [0, 1] intensities) measured on the training split. */
public record Normalization(double mean, double std) implements Serializable {
    public Normalization {
        if (!(std > 0)) {
            throw new IllegalArgumentException("std must be positive, got " + std);
        }
    }

    /** From a sum, a sum of squares and a count of pixels. */
    public static Normalization fromMoments(double sum, double sumSquares, long count) {
        double mean = sum / count;
        double variance = Math.max(sumSquares / count - mean * mean, 1e-8);
        return new Normalization(mean, Math.sqrt(variance));
    }
}
