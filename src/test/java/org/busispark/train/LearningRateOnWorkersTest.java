package org.busispark.train;

import org.busispark.cli.BusiCliTest;
import org.busispark.model.TrainedModel;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The schedule's rate reaches the parameter-averaging workers. dl4j-spark's workers train on a clone of the
 * network's configuration, which drops the epoch count, so an epoch-keyed schedule stayed at its epoch-0 rate
 * there. A step schedule whose second epoch has rate 0 must leave that epoch's parameters exactly as they were.
 */
@ExtendWith(StopsSpark.class)
class LearningRateOnWorkersTest {
    @TempDir
    Path tmp;

    @Test
    void anEpochWithRateZeroDoesNotMoveTheParameters() throws Exception {
        Path data = BusiCliTest.ingestSample(tmp);
        Path out = tmp.resolve("train");
        BusiCliTest.Result r = BusiCliTest.run("train", "--conf", "conf/local.conf", "-Dbusi.train.epochs=2",
                "-Dbusi.train.warmup-epochs=0", "-Dbusi.train.schedule=step", "-Dbusi.train.step-epochs=1",
                "-Dbusi.train.step-gamma=0", "-Dbusi.train.checkpoint-every=1", "--data", data.toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, INDArray> first = weights(out.resolve(Checkpoints.DIR).resolve("epoch-0001"));
        Map<String, INDArray> second = weights(out.resolve(Checkpoints.DIR).resolve("epoch-0002"));
        var config = org.busispark.config.ConfigLoader.load(new java.io.File("conf/local.conf"), Map.of());
        var initial = org.busispark.model.ResNetBuilder.build(config.model(), config.train()).paramTable();
        assertTrue(first.size() > 20, first.keySet().toString());
        double trained = 0;
        for (Map.Entry<String, INDArray> e : first.entrySet()) {
            trained += e.getValue().distance2(initial.get(e.getKey()));
            // Averaging identical workers' copies may round in the last bit; a real step moves far more.
            assertEquals(0.0, second.get(e.getKey()).distance2(e.getValue()), 1e-6 * (1 + e.getValue().norm2Number().doubleValue()),
                    "epoch 2 (rate 0) moved " + e.getKey());
        }
        assertTrue(trained > 1e-3, "epoch 1 (rate > 0) trained: " + trained);
    }

    /** Trainable parameters: batch norm's running mean and variance follow the data whatever the rate. */
    private static Map<String, INDArray> weights(Path checkpoint) throws Exception {
        var graph = TrainedModel.fromZip(Files.readAllBytes(checkpoint.resolve(Checkpoints.MODEL)), false);
        Map<String, INDArray> out = new TreeMap<>();
        graph.paramTable().forEach((k, v) -> {
            if (!k.endsWith("_mean") && !k.endsWith("_var") && !k.endsWith("_log10stdev")) {
                out.put(k, v.dup());
            }
        });
        return out;
    }
}
