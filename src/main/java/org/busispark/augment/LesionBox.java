package org.busispark.augment;

import org.busispark.ingest.DecodedImage;

import java.io.Serializable;

/**
 * The bounding box of a lesion mask, as fractions of the image's width and height ({@code x0 < x1},
 * {@code y0 < y1}), so that it applies to the image at any resolution.
 */
public record LesionBox(double x0, double y0, double x1, double y1) implements Serializable {
    public LesionBox {
        if (!(0 <= x0 && x0 < x1 && x1 <= 1 && 0 <= y0 && y0 < y1 && y1 <= 1)) {
            throw new IllegalArgumentException("Not a box inside the unit square: " + x0 + "," + y0 + " " + x1 + "," + y1);
        }
    }

    /** The box around the mask's foreground (intensity above half), or null when the mask is empty. */
    public static LesionBox of(DecodedImage mask) {
        int w = mask.width();
        int h = mask.height();
        int minX = w, minY = h, maxX = -1, maxY = -1;
        byte[] px = mask.gray();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if ((px[y * w + x] & 0xff) > 127) {
                    minX = Math.min(minX, x);
                    maxX = Math.max(maxX, x);
                    minY = Math.min(minY, y);
                    maxY = Math.max(maxY, y);
                }
            }
        }
        return maxX < 0 ? null
                : new LesionBox(minX / (double) w, minY / (double) h, (maxX + 1) / (double) w, (maxY + 1) / (double) h);
    }
}
