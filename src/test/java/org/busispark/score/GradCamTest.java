package org.busispark.score;

import org.busispark.augment.Normalization;
import org.busispark.augment.Preprocessor;
import org.busispark.config.ConfigLoader;
import org.busispark.config.BusiConfig;
import org.busispark.ingest.DecodedImage;
import org.busispark.model.InferenceGraph;
import org.busispark.model.Predictor;
import org.busispark.model.ResNetBuilder;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Grad-CAM on a tiny ResNet-18 (input 128: a 4x4 last block), without Spark. */
class GradCamTest {
    private static final int SIZE = 128;
    private static final Preprocessor PRE = new Preprocessor(SIZE, 1);
    private static ComputationGraph graph;
    private static float[][] inputs;

    @BeforeAll
    static void buildModel() {
        BusiConfig.Model model = new BusiConfig.Model("resnet18", SIZE, 1, 0.0625,
                List.of("benign", "malignant", "normal"));
        graph = ResNetBuilder.build(model, ConfigLoader.defaults().train());
        // A fresh output layer is all but uniform (zero bias, small weights): spread the logits so that the
        // identity below compares numbers that differ clearly.
        Nd4j.getRandom().setSeed(7);
        var w = graph.getLayer(ResNetBuilder.OUTPUT).getParam("W");
        graph.getLayer(ResNetBuilder.OUTPUT).setParam("W", Nd4j.rand(DataType.FLOAT, w.shape()).subi(0.5).muli(4));
        graph.getLayer(ResNetBuilder.OUTPUT).setParam("b", Nd4j.create(new float[] {0.3f, -0.2f, 0.1f}, 1, 3));
        inputs = new float[][] {input(image(1, 20, 30)), input(image(2, 90, 80))};
    }

    /** Noise with a bright disc ("lesion") centred at (cx, cy). */
    static DecodedImage image(long seed, int cx, int cy) {
        Random r = new Random(seed);
        byte[] px = new byte[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                boolean lesion = (x - cx) * (x - cx) + (y - cy) * (y - cy) < 15 * 15;
                px[y * SIZE + x] = (byte) (lesion ? 230 + r.nextInt(20) : 40 + r.nextInt(60));
            }
        }
        return new DecodedImage(SIZE, SIZE, px, 1, "png");
    }

    static float[] input(DecodedImage image) {
        return PRE.toInput(PRE.plain(image), new Normalization(0.3, 0.2));
    }

    @Test
    void theMapHasTheLastBlocksSizeAndIsNormalised() throws IOException {
        GradCam.Cam[] cams = new GradCam(graph, ResNetBuilder.lastBlock("resnet18")).explain(inputs, PRE);
        float[][] probs = Predictor.output(graph, inputs, PRE);
        for (int i = 0; i < cams.length; i++) {
            GradCam.Cam cam = cams[i];
            assertEquals(4, cam.width());
            assertEquals(4, cam.height());
            assertEquals(16, cam.raw().length);
            assertEquals(org.busispark.model.Prediction.argmax(probs[i]), cam.target(), "explains the predicted class");
            float max = 0;
            for (float v : cam.heatmap()) {
                assertTrue(v >= 0 && v <= 1, "heat in [0, 1]: " + v);
                max = Math.max(max, v);
            }
            assertEquals(1f, max, 1e-6, "scaled to a maximum of 1");
            float[] up = cam.upsampled(200, 150);
            assertEquals(200 * 150, up.length);
            for (float v : up) {
                assertTrue(v >= 0 && v <= 1);
            }
            DecodedImage plain = image(3, 50, 50);
            BufferedImage overlay = ImageIO.read(new ByteArrayInputStream(
                    GradCam.overlayPng(plain, cam, List.of("benign", "malignant", "normal"))));
            assertEquals(2 * plain.width(), overlay.getWidth(), "plain image and heatmap side by side");
            assertTrue(overlay.getHeight() > plain.height(), "with a caption below");
            float[] heat = cam.upsampled(plain.width(), plain.height());
            int hottest = 0;
            for (int p = 1; p < heat.length; p++) {
                hottest = heat[p] > heat[hottest] ? p : hottest;
            }
            int x = hottest % plain.width(), y = hottest / plain.width();
            int gray = plain.gray()[hottest] & 0xff;
            assertEquals((gray << 16) | (gray << 8) | gray, overlay.getRGB(x, y) & 0xffffff, "left: the plain image");
            assertNotEquals(overlay.getRGB(x, y), overlay.getRGB(plain.width() + x, y), "right: coloured where hot");
        }
    }

    /**
     * The head is global average pooling and a linear layer, so the raw maps decompose the logits exactly:
     * sum over positions of sum_k w_k A_k = logit_c - b_c. Differences of logits are differences of the real
     * network's log-probabilities, so this fails for maps from any other layer, with wrong gradients or weights.
     */
    @Test
    void theMapsAddUpToTheNetworksLogits() {
        GradCam gradCam = new GradCam(graph, ResNetBuilder.lastBlock("resnet18"));
        float[] bias = graph.getLayer(ResNetBuilder.OUTPUT).getParam("b").toFloatVector();
        float[][] probs = Predictor.output(graph, inputs, PRE);
        double[][] logit = new double[inputs.length][3];
        for (int c = 0; c < 3; c++) {
            GradCam.Cam[] cams = gradCam.explain(inputs, PRE, new int[] {c, c});
            for (int i = 0; i < inputs.length; i++) {
                assertEquals(c, cams[i].target());
                double sum = 0;
                for (float v : cams[i].raw()) {
                    sum += v;
                }
                logit[i][c] = sum + bias[c];
            }
        }
        for (int i = 0; i < inputs.length; i++) {
            for (int c = 1; c < 3; c++) {
                double expected = Math.log(probs[i][c]) - Math.log(probs[i][0]);
                assertTrue(Math.abs(expected) > 0.05, "logits differ clearly: " + expected);
                assertEquals(expected, logit[i][c] - logit[i][0], 1e-3 + 1e-3 * Math.abs(expected));
            }
        }
    }

    /** Scoring explains with its channels-last, folded network: the same maps as the trained network's. */
    @Test
    void theScoringNetworkGivesTheTrainedNetworksMaps() {
        ComputationGraph scoring = InferenceGraph.of(graph);
        assertTrue(InferenceGraph.channelsLast(scoring));
        String block = ResNetBuilder.lastBlock("resnet18");
        GradCam.Cam[] expected = new GradCam(graph, block).explain(inputs, PRE, new int[] {1, 2});
        GradCam.Cam[] actual = new GradCam(scoring, block).explain(inputs, PRE, new int[] {1, 2});
        for (int i = 0; i < inputs.length; i++) {
            assertEquals(expected[i].width(), actual[i].width());
            assertEquals(expected[i].height(), actual[i].height());
            float scale = 0;
            for (float v : expected[i].raw()) {
                scale = Math.max(scale, Math.abs(v));
            }
            assertTrue(scale > 1e-3, "a map that is not all zeros: " + scale);
            // Position by position: a map read in the wrong layout would be scrambled, not just rounded.
            assertArrayEquals(expected[i].raw(), actual[i].raw(), 1e-4f * scale);
            assertArrayEquals(expected[i].probabilities(), actual[i].probabilities(), 1e-5f);
        }
    }

    @Test
    void onlyTheBlockThatFeedsThePoolingCanBeExplained() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GradCam(graph, "s4b1"));
        assertTrue(e.getMessage().contains("s4b1"), e.getMessage());
    }
}
