package org.busispark.train;

import org.apache.hadoop.conf.Configuration;
import org.busispark.cli.BusiCliTest;
import org.busispark.model.ModelCard;
import org.busispark.model.ModelStore;
import org.busispark.model.TrainedModel;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code busi.train.average-last-epochs}: the model kept is the mean of the last epochs' weights. */
@ExtendWith(StopsSpark.class)
class WeightAverageTest {
    @TempDir
    Path tmp;

    @Test
    void runningMeanOfVectors() {
        WeightAverage avg = new WeightAverage();
        avg.add(Nd4j.createFromArray(1f, 2f, 3f));
        avg.add(Nd4j.createFromArray(3f, 2f, 0f));
        WeightAverage resumed = new WeightAverage(Nd4j.createFromArray(2f, 2f, 1.5f), 2);
        avg.add(Nd4j.createFromArray(5f, 8f, 0f));
        resumed.add(Nd4j.createFromArray(5f, 8f, 0f));
        assertEquals(3, avg.count());
        assertArrayEquals(new float[] {3f, 4f, 1f}, avg.mean().toFloatVector(), 1e-6f);
        assertEquals(3, resumed.count());
        assertArrayEquals(avg.mean().toFloatVector(), resumed.mean().toFloatVector(), 1e-6f);
        assertThrows(IllegalStateException.class, () -> new WeightAverage().applyTo(null));
    }

    private static float[] params(Path zip) throws Exception {
        return TrainedModel.fromZip(Files.readAllBytes(zip), false).params().toFloatVector();
    }

    private static float[] mean(float[] a, float[] b) {
        float[] m = new float[a.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = a[i] + (b[i] - a[i]) / 2;
        }
        return m;
    }

    @Test
    void keptModelIsTheMeanOfTheLastEpochsAndSurvivesResume() throws Exception {
        Path data = BusiCliTest.ingestSample(tmp);
        Path out = tmp.resolve("train");
        String[] train = {"train", "--conf", "conf/local.conf", "-Dbusi.train.epochs=3", "-Dbusi.train.checkpoint-every=1",
                "-Dbusi.train.average-last-epochs=2", "--data", data.toString(), "--output", out.toString()};
        BusiCliTest.Result first = BusiCliTest.run(train);
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("average of epochs 2-3"), first.out());

        Path checkpoints = out.resolve(Checkpoints.DIR);
        float[] epoch2 = params(checkpoints.resolve("epoch-0002/" + Checkpoints.MODEL));
        float[] epoch3 = params(checkpoints.resolve("epoch-0003/" + Checkpoints.MODEL));
        assertFalse(Arrays.equals(epoch2, epoch3), "the epochs trained");
        float[] kept = params(out.resolve("model/" + ModelStore.MODEL_FILE));
        assertArrayEquals(mean(epoch2, epoch3), kept, 1e-6f);
        assertArrayEquals(kept, params(checkpoints.resolve("epoch-0003/" + Checkpoints.AVERAGE)), 0f);

        Storage storage = new Storage(new Configuration());
        ModelCard card = ModelStore.readCard(storage, out.resolve("model").toUri().toString());
        assertEquals(3, card.bestEpoch(), "the last epoch averaged");
        assertEquals(2, card.training().averageLastEpochs());
        assertTrue(card.validationMetrics().containsKey("macroF1"), "the average is validated");
        ModelCard bestCard = ModelStore.readCard(storage,
                out.resolve(TrainJob.BEST_EPOCH_MODEL_DIR).toUri().toString());
        double bestF1 = TrainJob.readHistory(storage, out.toUri().toString()).stream()
                .mapToDouble(EpochRecord::validationMacroF1).max().orElseThrow();
        assertEquals(bestF1, ((Number) bestCard.validationMetrics().get("macroF1")).doubleValue(), 1e-12);

        // The job died during epoch 3: resuming from epoch 2's checkpoint averages its stored mean (epoch 2 alone)
        // with the new epoch 3.
        Files.delete(checkpoints.resolve("epoch-0003/" + Checkpoints.STATE));
        Checkpoints.State s2 = Json.read(Files.readString(checkpoints.resolve("epoch-0002/" + Checkpoints.STATE)),
                Checkpoints.State.class);
        assertEquals(1, s2.averagedEpochs());
        assertArrayEquals(epoch2, params(checkpoints.resolve("epoch-0002/" + Checkpoints.AVERAGE)), 0f);
        String[] resume = Arrays.copyOf(train, train.length + 1);
        resume[train.length] = "--resume";
        BusiCliTest.Result second = BusiCliTest.run(resume);
        assertEquals(0, second.code(), second.err());
        assertTrue(second.out().contains("resuming after epoch 2"), second.out());
        float[] epoch3again = params(checkpoints.resolve("epoch-0003/" + Checkpoints.MODEL));
        assertArrayEquals(mean(epoch2, epoch3again), params(out.resolve("model/" + ModelStore.MODEL_FILE)), 1e-6f);
    }

    @Test
    void averagingAndEarlyStoppingExcludeEachOther() {
        BusiCliTest.Result r = BusiCliTest.run("train", "--conf", "conf/local.conf", "-Dbusi.train.average-last-epochs=2",
                "-Dbusi.train.early-stopping-patience=3", "--data", tmp.toString(), "--output", tmp.resolve("o").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("exclude each other"), r.err());
    }
}
