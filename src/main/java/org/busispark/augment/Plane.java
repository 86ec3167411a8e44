package org.busispark.augment;

import org.busispark.ingest.DecodedImage;

/** A grayscale image as floats in [0, 1], with bilinear sampling through an {@link Affine} map. */
record Plane(int width, int height, float[] pixels) {

    /**
     * The image box-filtered by an integer factor so that its shorter side stays at least twice the target:
     * bilinear sampling of the result is then free of aliasing, and much cheaper than on full resolution.
     */
    static Plane reduced(DecodedImage image, int target) {
        int w = image.width(), h = image.height();
        int factor = Math.max(1, Math.min(w, h) / (2 * target));
        int rw = w / factor, rh = h / factor;
        float[] out = new float[rw * rh];
        byte[] src = image.gray();
        float scale = 1f / (255f * factor * factor);
        if (factor == 1) { // most ultrasound frames at model sizes above 100 px: a plain, vectorised conversion
            for (int i = 0; i < out.length; i++) {
                out[i] = (src[i] & 0xff) * scale;
            }
            return new Plane(rw, rh, out);
        }
        for (int y = 0; y < rh; y++) {
            for (int x = 0; x < rw; x++) {
                int sum = 0;
                for (int dy = 0; dy < factor; dy++) {
                    int row = (y * factor + dy) * w + x * factor;
                    for (int dx = 0; dx < factor; dx++) {
                        sum += src[row + dx] & 0xff;
                    }
                }
                out[y * rw + x] = sum * scale;
            }
        }
        return new Plane(rw, rh, out);
    }

    /** Samples a size×size output; pixels mapped outside the image are black, like ultrasound background. */
    float[] sample(int size, Affine map) {
        float[] out = new float[size * size];
        double[] p = new double[2];
        for (int v = 0; v < size; v++) {
            for (int u = 0; u < size; u++) {
                map.apply(u + 0.5, v + 0.5, p);
                out[v * size + u] = bilinear(p[0] - 0.5, p[1] - 0.5);
            }
        }
        return out;
    }

    /** Inside the image's pixel area (edges clamped, so enlarging keeps the border's value); black outside. */
    private float bilinear(double x, double y) {
        if (x < -0.5 || y < -0.5 || x > width - 0.5 || y > height - 0.5) {
            return 0f;
        }
        x = Math.max(0, Math.min(width - 1, x));
        y = Math.max(0, Math.min(height - 1, y));
        int x0 = (int) Math.floor(x), y0 = (int) Math.floor(y);
        double fx = x - x0, fy = y - y0;
        return (float) ((1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0))
                + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1)));
    }

    private float at(int x, int y) {
        return x < 0 || y < 0 || x >= width || y >= height ? 0f : pixels[y * width + x];
    }
}
