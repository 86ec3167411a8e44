package org.busispark.augment;

import org.busispark.ingest.DecodedImage;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A PNG grid for checking augmentation by eye: one row per image, its plain (unaugmented) input first, then
 * what training sees in epochs 1, 2, … — exactly the transform {@link Augmenter} applies in the Spark stage.
 */
public final class AugmentPreview {
    private static final int GAP = 4;

    private AugmentPreview() {}

    public static byte[] render(List<DecodedImage> images, List<String> ids, Augmenter augmenter,
                                Preprocessor pre, long seed, int epochs) {
        int s = pre.size();
        BufferedImage grid = new BufferedImage((epochs + 1) * (s + GAP) + GAP, images.size() * (s + GAP) + GAP,
                BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < grid.getHeight(); y++) {
            for (int x = 0; x < grid.getWidth(); x++) {
                grid.getRaster().setSample(x, y, 0, 255);
            }
        }
        for (int r = 0; r < images.size(); r++) {
            for (int e = 0; e <= epochs; e++) {
                float[] plane = e == 0 ? pre.plain(images.get(r)) : augmenter.augment(images.get(r), seed, e, ids.get(r));
                int x0 = GAP + e * (s + GAP), y0 = GAP + r * (s + GAP);
                for (int y = 0; y < s; y++) {
                    for (int x = 0; x < s; x++) {
                        grid.getRaster().setSample(x0 + x, y0 + y, 0, Math.round(Math.max(0, Math.min(1, plane[y * s + x])) * 255));
                    }
                }
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(grid, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
