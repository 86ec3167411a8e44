package org.busispark.augment;

import org.busispark.ingest.DecodedImage;

import java.io.Serializable;

/**
 * Turns a decoded grayscale image into the model's input: a square {@code size×size} plane of [0, 1]
 * intensities (anti-aliased), then normalised and repeated over the model's channels. Training adds random
 * geometry through {@link Augmenter}; evaluation and scoring use {@link #plain}.
 */
public final class Preprocessor implements Serializable {
    private final int size;
    private final int channels;

    public Preprocessor(int size, int channels) {
        this.size = size;
        this.channels = channels;
    }

    public int size() {
        return size;
    }

    /** The whole image squashed to size×size, unnormalised, in [0, 1]. */
    public float[] plain(DecodedImage image) {
        Plane src = Plane.reduced(image, size);
        return src.sample(size, Affine.stretch(src.width(), src.height(), size));
    }

    /** An image's model input for inference: squashed to size×size, normalised, CHW. */
    public float[] input(DecodedImage image, Normalization norm) {
        return toInput(plain(image), norm);
    }

    /** Normalises and lays the plane out as CHW over the configured channels. */
    public float[] toInput(float[] plane, Normalization norm) {
        float[] out = new float[channels * plane.length];
        Normalization by = norm.perImage() ? Normalization.ofImage(plane) : norm;
        float mean = (float) by.mean();
        float inv = (float) (1.0 / by.std());
        for (int i = 0; i < plane.length; i++) {
            float v = (plane[i] - mean) * inv;
            for (int c = 0; c < channels; c++) {
                out[c * plane.length + i] = v;
            }
        }
        return out;
    }

    /** A CHW input mirrored left to right (test-time augmentation). */
    public float[] mirrored(float[] input) {
        float[] out = new float[input.length];
        for (int row = 0; row < input.length / size; row++) {
            int at = row * size;
            for (int x = 0; x < size; x++) {
                out[at + x] = input[at + size - 1 - x];
            }
        }
        return out;
    }

    public long[] inputShape(int batch) {
        return new long[] {batch, channels, size, size};
    }
}
