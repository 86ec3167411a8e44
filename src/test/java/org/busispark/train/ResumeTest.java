package org.busispark.train;

import org.apache.hadoop.conf.Configuration;
import org.busispark.cli.BusiCliTest;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A training run that stopped after a checkpoint continues with --resume, on the same schedule. */
@ExtendWith(StopsSpark.class)
class ResumeTest {
    @TempDir
    Path tmp;

    private static List<EpochRecord> history(Path out) throws Exception {
        return Files.readAllLines(out.resolve(TrainJob.HISTORY_FILE)).stream()
                .map(l -> Json.read(l, EpochRecord.class)).toList();
    }

    @Test
    void resumeContinuesFromTheNewestCompleteCheckpoint() throws Exception {
        Path data = BusiCliTest.ingestSample(tmp);
        Path out = tmp.resolve("train");
        String[] train = {"train", "--conf", "conf/local.conf", "-Dbusi.train.epochs=4", "-Dbusi.train.checkpoint-every=2",
                "--data", data.toString(), "--output", out.toString()};
        BusiCliTest.Result first = BusiCliTest.run(train);
        assertEquals(0, first.code(), first.err());
        List<EpochRecord> full = history(out);
        assertEquals(4, full.size());
        Path checkpoints = out.resolve(Checkpoints.DIR);
        assertTrue(Files.exists(checkpoints.resolve("epoch-0002/state.json")));

        // A crash while writing the epoch-4 checkpoint: its state.json never landed. And the history on disk
        // stops at epoch 2, as it would have if the job had died during epoch 3.
        Files.delete(checkpoints.resolve("epoch-0004/state.json"));
        new Storage(new Configuration()).writeText(out.resolve(TrainJob.HISTORY_FILE).toUri().toString(),
                String.join("\n", Files.readAllLines(out.resolve(TrainJob.HISTORY_FILE)).subList(0, 2)) + "\n");

        String[] resume = java.util.Arrays.copyOf(train, train.length + 1);
        resume[train.length] = "--resume";
        BusiCliTest.Result second = BusiCliTest.run(resume);
        assertEquals(0, second.code(), second.err());
        assertTrue(second.out().contains("resuming after epoch 2"), second.out());
        assertFalse(second.out().contains("epoch 1/4"), "epochs 1 and 2 are not trained again");
        List<EpochRecord> resumed = history(out);
        assertEquals(List.of(1, 2, 3, 4), resumed.stream().map(EpochRecord::epoch).toList());
        for (int i = 0; i < 4; i++) {
            assertEquals(full.get(i).learningRate(), resumed.get(i).learningRate(), 1e-12, "same schedule, epoch " + (i + 1));
        }
        assertTrue(Files.size(out.resolve("model/model.zip")) > 100_000);
    }

    @Test
    void halfWrittenOrMismatchedCheckpointsAreIgnoredAndOldOnesPruned() {
        Storage storage = new Storage(new Configuration());
        String out = tmp.toUri().toString();
        byte[] model = {1, 2, 3}, best = {4, 5};
        for (int epoch = 1; epoch <= 3; epoch++) {
            Checkpoints.save(storage, out, new Checkpoints.State(epoch, 1, 0.5, java.util.Map.of(), 3, 2, 7, 0, 0, null), model, best, null);
        }
        assertFalse(storage.exists(Storage.child(out, "checkpoints/epoch-0001")), "only the newest two are kept");
        assertEquals(3, Checkpoints.latest(storage, out).orElseThrow().state().epoch());
        storage.writeBytes(Storage.child(out, "checkpoints/epoch-0003/model.zip"), new byte[] {9}); // size mismatch
        assertEquals(2, Checkpoints.latest(storage, out).orElseThrow().state().epoch());
        storage.writeBytes(Storage.child(out, "checkpoints/epoch-0009/model.zip"), model); // no state.json
        assertEquals(2, Checkpoints.latest(storage, out).orElseThrow().state().epoch());
    }
}
