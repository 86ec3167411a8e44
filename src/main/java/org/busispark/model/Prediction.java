package org.busispark.model;

import java.io.Serializable;

/**
 * The model's answer for one image: class probabilities, or an error saying why the image could not be scored.
 *
 * @param labelIndex the true class when known (evaluation), otherwise null
 * @param origin     site, patient and scanner of the image, as far as known (never null)
 */
public record Prediction(String sourcePath, String imageId, Integer labelIndex, float[] probabilities,
                         String error, Origin origin) implements Serializable {
    public int predictedIndex() {
        return argmax(probabilities);
    }

    /** The index of the largest value; the first one on ties. */
    public static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
