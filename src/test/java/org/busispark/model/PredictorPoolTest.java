package org.busispark.model;

import org.apache.spark.api.java.JavaSparkContext;
import org.busispark.augment.Preprocessor;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.testing.StopsSpark;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pooled networks belong to their Spark context: broadcast ids restart with every SparkContext, and a JVM that
 * ran an earlier context (here, as in a test suite or a notebook that restarts its context) must not score
 * with that context's model.
 */
@ExtendWith(StopsSpark.class)
class PredictorPoolTest {
    private static final int SIZE = 32;

    @Test
    void aNewContextNeverGetsAnEarlierContextsNetworkUnderTheSameBroadcastId() {
        float[][] x = inputs(2, 3);
        ComputationGraph first = network(1);
        ComputationGraph second = network(2);
        Preprocessor pre = new Preprocessor(SIZE, 1);

        StopsSpark.stopAnySession();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(StopsSpark.session().sparkContext());
        Predictor.SharedModel a = Predictor.broadcast(jsc, TrainedModel.toZip(first, false));
        float[] fromFirst = score(jsc, a, x, pre);
        StopsSpark.stopAnySession();
        jsc = JavaSparkContext.fromSparkContext(StopsSpark.session().sparkContext());
        Predictor.SharedModel b = Predictor.broadcast(jsc, TrainedModel.toZip(second, false));
        assertEquals(a.id(), b.id(), "the case this guards: the same broadcast id in the new context");
        float[] fromSecond = score(jsc, b, x, pre);

        assertArrayEquals(Predictor.output(second, x, pre)[0], fromSecond, 1e-5f, "the second context's model");
        assertTrue(Math.abs(fromFirst[0] - fromSecond[0]) > 1e-4, "the two models differ");
    }

    private static float[][] inputs(int n, long seed) {
        float[][] x = new float[n][SIZE * SIZE];
        Random r = new Random(seed);
        for (float[] row : x) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        return x;
    }

    private static ComputationGraph network(long seed) {
        BusiConfig.Train train = ConfigLoader.load(null, Map.of("busi.train.seed", String.valueOf(seed))).train();
        return ResNetBuilder.build(new BusiConfig.Model("resnet18", SIZE, 1, 0.125, TinyModel.CLASSES), train);
    }

    /**
     * With a local master the tasks copy the driver's network: nothing is serialised (the zip is never asked for),
     * and a closed model is released, not kept for the rest of the JVM's life.
     */
    @Test
    void aLocalMasterSharesTheDriversNetworkAndReleasesItOnClose() {
        float[][] x = inputs(3, 5);
        ComputationGraph net = network(4);
        Preprocessor pre = new Preprocessor(SIZE, 1);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(StopsSpark.session().sparkContext());
        Predictor.SharedModel shared = Predictor.share(jsc, net, () -> {
            throw new AssertionError("a local master needs no zip");
        });
        float[][] expected = Predictor.output(net, x, pre);
        List<float[]> fromTasks = Predictor.withModel(jsc.parallelize(List.of(0, 1, 2), 3), shared,
                (graph, it) -> List.of(Predictor.output(graph, new float[][] {x[it.next()]}, pre)[0])).collect();
        for (int i = 0; i < x.length; i++) {
            assertArrayEquals(expected[i], fromTasks.get(i), 1e-5f, "image " + i);
        }
        shared.close();
        Exception e = assertThrows(Exception.class, () -> score(jsc, shared, x, pre));
        assertTrue(String.valueOf(e.getMessage()).contains("used after it was closed"), e.getMessage());
    }

    private static float[] score(JavaSparkContext jsc, Predictor.SharedModel model, float[][] x, Preprocessor pre) {
        return Predictor.withModel(jsc.parallelize(List.of(0), 1), model,
                (graph, it) -> List.of(Predictor.output(graph, x, pre)[0])).collect().get(0);
    }
}
