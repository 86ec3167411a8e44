package org.busispark.train;

import org.busispark.cli.BusiCliTest;
import org.busispark.model.TrainedModel;
import org.busispark.storage.Json;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The same images and seed train the same way whatever the dataset's files: ingest writes one file per split per
 * core, so the sample ingested on one and on two cores is laid out differently, and both must train to the same
 * losses and weights.
 */
@ExtendWith(StopsSpark.class)
class TrainingOrderTest {
    @TempDir
    Path tmp;

    @Test
    void theSameImagesInOtherFilesTrainTheSameWay() throws Exception {
        Path one = ingest("local[1]");
        Path two = ingest("local[2]");
        assertNotEquals(files(one), files(two), "the two datasets are written in different files");

        TrainedRun a = train(one, "a");
        TrainedRun b = train(two, "b");
        assertEquals(a.losses(), b.losses(), "the same training loss every epoch");
        assertArrayEquals(a.params(), b.params(), "the same weights");
    }

    private record TrainedRun(List<Double> losses, float[] params) {}

    private Path ingest(String master) {
        Path data = tmp.resolve("dataset-" + master.replaceAll("\\W", ""));
        assertEquals(0, BusiCliTest.run("ingest", "--conf", "conf/local.conf", "-Dbusi.spark.master=" + master,
                "--input", "data/sample/busi", "--output", data.toString()).code());
        return data;
    }

    private TrainedRun train(Path data, String name) throws Exception {
        Path out = tmp.resolve("train-" + name);
        BusiCliTest.Result r = BusiCliTest.run("train", "--conf", "conf/local.conf", "-Dbusi.train.epochs=3",
                "--data", data.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        List<Double> losses = Files.readAllLines(out.resolve(TrainJob.HISTORY_FILE)).stream()
                .map(l -> Json.read(l, EpochRecord.class).trainLoss()).toList();
        float[] params = TrainedModel.fromZip(Files.readAllBytes(out.resolve("model/model.zip")), false)
                .params().toFloatVector();
        return new TrainedRun(losses, params);
    }

    private static long files(Path dataset) throws Exception {
        try (Stream<Path> s = Files.walk(dataset.resolve("images"))) {
            return s.filter(p -> p.toString().endsWith(".parquet")).count();
        }
    }
}
