package org.busispark.score;

import org.busispark.augment.Preprocessor;
import org.busispark.ingest.DecodedImage;
import org.busispark.model.InferenceGraph;
import org.busispark.model.Prediction;
import org.busispark.model.Predictor;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.pooling.GlobalPoolingLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Grad-CAM (Selvaraju et al. 2017) on a network's last convolutional block A: each channel k is weighed by the
 * spatial mean of the gradient of the target class's score (its logit, before softmax) with respect to A_k, and
 * the map is ReLU(sum_k w_k A_k) at the feature map's resolution. The gradient reaches A through the network's
 * own global pooling layer (DL4J backprop) from the output layer's weights, since the logit is linear in the
 * pooled features. Pure: no Spark, one network, not thread-safe (like the network).
 */
public final class GradCam {
    private final ComputationGraph graph;
    private final String features;
    private final String pooling;
    private final String output;

    /** Checks that {@code featureLayer} feeds a global pooling layer that feeds the output layer directly. */
    public GradCam(ComputationGraph graph, String featureLayer) {
        Map<String, List<String>> inputs = graph.getConfiguration().getVertexInputs();
        this.graph = graph;
        this.features = featureLayer;
        this.output = graph.getConfiguration().getNetworkOutputs().get(0);
        List<String> head = inputs.get(output);
        this.pooling = head.size() == 1 ? head.get(0) : null;
        if (pooling == null || !(graph.getLayer(pooling) instanceof GlobalPoolingLayer)
                || !inputs.get(pooling).equals(List.of(featureLayer))) {
            throw new IllegalArgumentException("Grad-CAM needs " + featureLayer + " -> global pooling -> " + output
                    + ", but " + output + " reads " + head);
        }
    }

    /**
     * One map at the feature map's resolution.
     *
     * @param raw           sum_k w_k A_k before the ReLU, row-major {@code height x width}
     * @param target        the class explained
     * @param probabilities the network's softmax output for the image
     */
    public record Cam(int width, int height, float[] raw, int target, float[] probabilities) {
        /** ReLU of the raw map scaled so that its maximum is 1 (all zeros when nothing is positive). */
        public float[] heatmap() {
            float max = 0;
            for (float v : raw) {
                max = Math.max(max, v);
            }
            float[] out = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                out[i] = max > 0 ? Math.max(0, raw[i]) / max : 0;
            }
            return out;
        }

        /** The heatmap resized bilinearly to {@code w x h} (pixel centres aligned, edges clamped). */
        public float[] upsampled(int w, int h) {
            float[] heat = heatmap();
            float[] out = new float[w * h];
            for (int y = 0; y < h; y++) {
                double fy = Math.min(Math.max((y + 0.5) * height / h - 0.5, 0), height - 1);
                int y0 = (int) fy;
                int y1 = Math.min(y0 + 1, height - 1);
                double dy = fy - y0;
                for (int x = 0; x < w; x++) {
                    double fx = Math.min(Math.max((x + 0.5) * width / w - 0.5, 0), width - 1);
                    int x0 = (int) fx;
                    int x1 = Math.min(x0 + 1, width - 1);
                    double dx = fx - x0;
                    double top = heat[y0 * width + x0] * (1 - dx) + heat[y0 * width + x1] * dx;
                    double bottom = heat[y1 * width + x0] * (1 - dx) + heat[y1 * width + x1] * dx;
                    out[y * w + x] = (float) (top * (1 - dy) + bottom * dy);
                }
            }
            return out;
        }
    }

    /** Maps of the predicted class for preprocessed CHW inputs. */
    public Cam[] explain(float[][] inputs, Preprocessor pre) {
        return explain(inputs, pre, null);
    }

    /** Maps of {@code targets[i]} for input i; null explains each input's predicted class. */
    Cam[] explain(float[][] inputs, Preprocessor pre, int[] targets) {
        int n = inputs.length;
        Map<String, INDArray> acts = graph.feedForward(InferenceGraph.input(graph, Predictor.features(inputs, pre)), false);
        INDArray a = acts.get(features).castTo(DataType.FLOAT);
        float[][] probs = acts.get(output).castTo(DataType.FLOAT).toFloatMatrix();
        int[] target = targets != null ? targets : new int[n];
        if (targets == null) {
            for (int i = 0; i < n; i++) {
                target[i] = Prediction.argmax(probs[i]);
            }
        }
        // d logit_c / d pooled = column c of the output layer's weights [nIn, nOut].
        INDArray weights = graph.getLayer(output).getParam(DefaultParamInitializer.WEIGHT_KEY).castTo(DataType.FLOAT);
        INDArray dPooled = Nd4j.create(DataType.FLOAT, n, weights.rows());
        for (int i = 0; i < n; i++) {
            dPooled.putRow(i, weights.getColumn(target[i]));
        }
        Layer pool = graph.getLayer(pooling);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        pool.setInput(a, mgr);
        float[] grad = flat(InferenceGraph.channelsFirst(graph, pool.backpropGradient(dPooled, mgr).getSecond()));
        pool.clear();
        a = InferenceGraph.channelsFirst(graph, a);

        long[] shape = a.shape();
        int k = (int) shape[1];
        int h = (int) shape[2];
        int w = (int) shape[3];
        int plane = h * w;
        float[] act = flat(a);
        Cam[] cams = new Cam[n];
        for (int i = 0; i < n; i++) {
            float[] raw = new float[plane];
            for (int c = 0; c < k; c++) {
                int at = (i * k + c) * plane;
                double weight = 0;
                for (int p = 0; p < plane; p++) {
                    weight += grad[at + p];
                }
                weight /= plane;
                for (int p = 0; p < plane; p++) {
                    raw[p] += (float) (weight * act[at + p]);
                }
            }
            cams[i] = new Cam(w, h, raw, target[i], probs[i]);
        }
        return cams;
    }

    /** The elements in row-major order. */
    private static float[] flat(INDArray array) {
        return array.castTo(DataType.FLOAT).reshape('c', new long[] {array.length()}).toFloatVector();
    }

    /**
     * What a reader needs on one PNG: the plain image on the left, the heatmap blended over it on the right (in
     * proportion to the heat, so cold regions show the plain image), and a caption with the explained class and
     * every class's probability.
     */
    public static byte[] overlayPng(DecodedImage image, Cam cam, List<String> classes) {
        int w = image.width();
        int h = image.height();
        int caption = Math.max(18, h / 14);
        float[] heat = cam.upsampled(w, h);
        BufferedImage out = new BufferedImage(2 * w, h + caption, BufferedImage.TYPE_INT_RGB);
        byte[] gray = image.gray();
        for (int i = 0; i < heat.length; i++) {
            double g = (gray[i] & 0xff) / 255.0;
            double t = heat[i];
            double alpha = 0.6 * t;
            int r = channel(g, jet(t, 3), alpha);
            int gr = channel(g, jet(t, 2), alpha);
            int b = channel(g, jet(t, 1), alpha);
            int plain = gray[i] & 0xff;
            out.setRGB(i % w, i / w, (plain << 16) | (plain << 8) | plain);
            out.setRGB(w + i % w, i / w, (r << 16) | (gr << 8) | b);
        }
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, caption * 2 / 3));
        g.setColor(Color.WHITE);
        StringBuilder text = new StringBuilder("Grad-CAM of " + classes.get(cam.target()) + " |");
        for (int c = 0; c < classes.size(); c++) {
            text.append(String.format(" %s %.2f", classes.get(c), cam.probabilities()[c]));
        }
        g.drawString(text.toString(), 4, h + caption * 3 / 4);
        g.dispose();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(out, "png", bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The "jet" colour map: channel centred at {@code centre} quarters of the range (red 3, green 2, blue 1). */
    private static double jet(double t, int centre) {
        return Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - centre)));
    }

    private static int channel(double gray, double colour, double alpha) {
        return (int) Math.round(255 * ((1 - alpha) * gray + alpha * colour));
    }
}
