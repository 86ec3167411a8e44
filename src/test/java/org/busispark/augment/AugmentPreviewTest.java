package org.busispark.augment;

import org.busispark.config.ConfigLoader;
import org.busispark.ingest.DecodedImage;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AugmentPreviewTest {
    @Test
    void gridHasOneRowPerImageAndThePlainInputFirst() throws Exception {
        byte[] px = new byte[40 * 30];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i % 40 * 6);
        }
        DecodedImage img = new DecodedImage(40, 30, px, 1, "png");
        Preprocessor pre = new Preprocessor(16, 1);
        byte[] png = AugmentPreview.render(List.of(img, img), List.of("a", "b"),
                new Augmenter(ConfigLoader.defaults().augment(), 16), pre, 1, 3);
        BufferedImage grid = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(4 + 4 * (16 + 4), grid.getWidth());
        assertEquals(4 + 2 * (16 + 4), grid.getHeight());
        float[] plain = pre.plain(img);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                assertEquals(Math.round(plain[y * 16 + x] * 255), grid.getRaster().getSample(4 + x, 4 + y, 0));
            }
        }
    }
}
