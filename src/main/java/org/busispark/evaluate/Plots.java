package org.busispark.evaluate;

import org.busispark.train.EpochRecord;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
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
import java.util.function.ToDoubleFunction;

/** PNG plots for reports: training curves, confusion matrix, ROC curves and a reliability diagram. */
public final class Plots {
    private static final int W = 640;
    private static final int H = 420;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {}

    public static byte[] trainingLoss(List<EpochRecord> history) {
        return png(curves("Loss per epoch", "cross-entropy", history,
                Map.of("train loss", EpochRecord::trainLoss, "validation loss", EpochRecord::validationLoss)));
    }

    public static byte[] trainingScores(List<EpochRecord> history) {
        return png(curves("Accuracy and macro-F1 per epoch", "score", history,
                Map.of("train accuracy", EpochRecord::trainAccuracy, "validation accuracy", EpochRecord::validationAccuracy,
                        "validation macro-F1", EpochRecord::validationMacroF1)));
    }

    private static JFreeChart curves(String title, String yLabel, List<EpochRecord> history,
                                     Map<String, ToDoubleFunction<EpochRecord>> series) {
        XYSeriesCollection data = new XYSeriesCollection();
        series.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            XYSeries s = new XYSeries(e.getKey());
            for (EpochRecord r : history) {
                double v = e.getValue().applyAsDouble(r);
                if (Double.isFinite(v)) {
                    s.add(r.epoch(), v);
                }
            }
            data.addSeries(s);
        });
        JFreeChart chart = ChartFactory.createXYLineChart(title, "epoch", yLabel, data, PlotOrientation.VERTICAL,
                true, false, false);
        style(chart, true);
        ((NumberAxis) chart.getXYPlot().getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        return chart;
    }

    public static byte[] roc(Map<String, List<double[]>> curves, Map<String, Double> auc) {
        XYSeriesCollection data = new XYSeriesCollection();
        curves.forEach((label, points) -> {
            XYSeries s = new XYSeries(String.format("%s (AUC %.3f)", label, auc.get(label)), false);
            points.forEach(p -> s.add(p[0], p[1]));
            data.addSeries(s);
        });
        XYSeries chance = new XYSeries("chance", false);
        chance.add(0, 0);
        chance.add(1, 1);
        data.addSeries(chance);
        JFreeChart chart = ChartFactory.createXYLineChart("ROC curves, one class vs the rest", "false-positive rate",
                "true-positive rate", data, PlotOrientation.VERTICAL, true, false, false);
        style(chart, false);
        dashed(chart, data.getSeriesCount() - 1);
        return png(chart);
    }

    /** @param bins [lower, upper, count, mean confidence, accuracy] per non-empty bin */
    public static byte[] reliability(List<double[]> bins, double ece) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYSeries observed = new XYSeries("accuracy per confidence bin", false);
        bins.forEach(b -> observed.add(b[3], b[4]));
        XYSeries perfect = new XYSeries("perfect calibration", false);
        perfect.add(0, 0);
        perfect.add(1, 1);
        data.addSeries(observed);
        data.addSeries(perfect);
        JFreeChart chart = ChartFactory.createXYLineChart(String.format("Reliability (ECE %.3f)", ece),
                "mean predicted confidence", "observed accuracy", data, PlotOrientation.VERTICAL, true, false, false);
        style(chart, true);
        dashed(chart, 1);
        return png(chart);
    }

    /** A heat map with counts and row-normalised shading (rows: true class, columns: predicted class). */
    public static byte[] confusionMatrix(long[][] cm, List<String> classes) {
        int k = classes.size();
        int cell = 110, left = 130, top = 70;
        BufferedImage img = new BufferedImage(left + k * cell + 20, top + k * cell + 20, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("Confusion matrix (rows: true, columns: predicted)", 10, 25);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        for (int i = 0; i < k; i++) {
            long row = 0;
            for (long v : cm[i]) {
                row += v;
            }
            g.setColor(Color.BLACK);
            g.drawString(classes.get(i), 10, top + i * cell + cell / 2 + 5);
            g.drawString(classes.get(i), left + i * cell + 10, top - 10);
            for (int j = 0; j < k; j++) {
                double share = row == 0 ? 0 : (double) cm[i][j] / row;
                int shade = (int) Math.round(255 - 200 * share);
                g.setColor(new Color(shade, shade, 255));
                g.fillRect(left + j * cell, top + i * cell, cell, cell);
                g.setColor(Color.GRAY);
                g.drawRect(left + j * cell, top + i * cell, cell, cell);
                g.setColor(share > 0.6 ? Color.WHITE : Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
                g.drawString(Long.toString(cm[i][j]), left + j * cell + 12, top + i * cell + cell / 2);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
                g.drawString(String.format("%.0f%% of row", 100 * share), left + j * cell + 12, top + i * cell + cell / 2 + 22);
            }
        }
        g.dispose();
        return encode(img);
    }

    private static void style(JFreeChart chart, boolean shapes) {
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(new Color(248, 248, 248));
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, shapes);
        for (int i = 0; i < plot.getDataset().getSeriesCount(); i++) {
            r.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(r);
    }

    private static void dashed(JFreeChart chart, int series) {
        XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) chart.getXYPlot().getRenderer();
        r.setSeriesStroke(series, new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {6f, 6f}, 0f));
        r.setSeriesPaint(series, Color.GRAY);
        r.setSeriesShapesVisible(series, false);
    }

    private static byte[] png(JFreeChart chart) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(out, chart, W, H);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] encode(BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
