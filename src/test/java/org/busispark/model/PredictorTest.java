package org.busispark.model;

import org.busispark.augment.Normalization;
import org.busispark.augment.Preprocessor;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.ingest.DecodedImage;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test-time augmentation: flip averaging is the mean of the network on the image and on its mirror image. */
class PredictorTest {
    private static final int SIZE = 32;

    @Test
    void flipAveragingIsTheMeanOfTheImageAndItsMirror() {
        BusiConfig.Model model = new BusiConfig.Model("resnet18", SIZE, 1, 0.125, TinyModel.CLASSES);
        var graph = ResNetBuilder.build(model, ConfigLoader.defaults().train());
        Preprocessor pre = new Preprocessor(SIZE, 1);
        Normalization norm = new Normalization(0.3, 0.2);
        Random r = new Random(1);
        byte[] px = new byte[SIZE * SIZE];
        r.nextBytes(px);
        byte[] mirror = new byte[px.length];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                mirror[y * SIZE + x] = px[y * SIZE + SIZE - 1 - x];
            }
        }
        float[] image = pre.toInput(pre.plain(new DecodedImage(SIZE, SIZE, px, 1, "png")), norm);
        float[] mirrored = pre.toInput(pre.plain(new DecodedImage(SIZE, SIZE, mirror, 1, "png")), norm);

        float[] plain = Predictor.output(graph, new float[][] {image}, pre)[0];
        float[] flipped = Predictor.output(graph, new float[][] {mirrored}, pre)[0];
        float[] averaged = Predictor.flipAveraged(graph, new float[][] {image, mirrored}, pre)[0];
        double change = 0;
        for (int c = 0; c < plain.length; c++) {
            assertEquals((plain[c] + flipped[c]) / 2, averaged[c], 1e-5);
            change += Math.abs(plain[c] - flipped[c]);
        }
        assertTrue(change > 1e-4, "the mirror image gives other probabilities, so averaging is visible");
    }

    @Test
    void aCopyOverTheRestoredWeightsPredictsExactlyAsTheRestoredNetwork() {
        BusiConfig.Model model = new BusiConfig.Model("resnet18", SIZE, 1, 0.125, TinyModel.CLASSES);
        var graph = ResNetBuilder.build(model, ConfigLoader.defaults().train());
        var restored = TrainedModel.fromZip(TrainedModel.toZip(graph, false), false);
        var copy = Predictor.copyOf(restored);
        Preprocessor pre = new Preprocessor(SIZE, 1);
        Random r = new Random(2);
        float[][] x = new float[3][SIZE * SIZE];
        for (float[] row : x) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        float[][] a = Predictor.output(restored, x, pre);
        float[][] b = Predictor.output(copy, x, pre);
        float[][] c = Predictor.output(graph, x, pre);
        for (int i = 0; i < x.length; i++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(a[i], b[i], i + "");
            org.junit.jupiter.api.Assertions.assertArrayEquals(c[i], a[i], 1e-6f, i + "");
        }
        assertTrue(Math.abs(a[0][0] - a[1][0]) > 1e-6, "different inputs give different outputs");
        assertEquals(restored.params().data().address(), copy.params().data().address(),
                "the copy reads the restored network's weights, not a duplicate");
    }
}
