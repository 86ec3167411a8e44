package org.busispark.train;

import org.busispark.cli.BusiCliTest;
import org.busispark.config.ConfigLoader;
import org.busispark.model.LearningRates;
import org.busispark.storage.Json;
import org.busispark.testing.ChildJvm;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The driver of a real `busi train` process killed (SIGKILL) after its first checkpoint: `--resume` finishes the
 * run on the same schedule, keeps the epochs trained before the kill, and ends where an uninterrupted run ends.
 */
@ExtendWith(StopsSpark.class)
class DriverKillTest {
    private static final int EPOCHS = 3;
    @TempDir
    Path tmp;

    private static List<EpochRecord> history(Path out) throws Exception {
        return Files.readAllLines(out.resolve(TrainJob.HISTORY_FILE)).stream().filter(l -> !l.isBlank())
                .map(l -> Json.read(l, EpochRecord.class)).toList();
    }

    private String[] train(Path data, Path out, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--conf", "conf/local.conf",
                "-Dbusi.train.epochs=" + EPOCHS, "-Dbusi.train.checkpoint-every=1",
                "--data", data.toString(), "--output", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void aKilledTrainingDriverResumesFromItsLastCheckpoint() throws Exception {
        Path data = BusiCliTest.ingestSample(tmp);
        Path out = tmp.resolve("killed");
        Path log = tmp.resolve("train.log");
        Process driver = new ProcessBuilder(ChildJvm.command("3g", "org.busispark.cli.BusiCli", train(data, out)))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Path firstCheckpoint = out.resolve(Checkpoints.DIR).resolve("epoch-0001").resolve("state.json");
        try {
            long deadline = System.nanoTime() + 240_000_000_000L;
            while (!Files.exists(firstCheckpoint)) {
                assertTrue(driver.isAlive() && System.nanoTime() < deadline, () -> "training reaches its first checkpoint:\n"
                        + tail(log));
                Thread.sleep(50);
            }
        } finally {
            ChildJvm.kill(driver);
        }
        assertFalse(Files.readString(log).contains("epoch " + EPOCHS + "/" + EPOCHS), "killed mid-run:\n" + tail(log));
        assertFalse(Files.exists(out.resolve("model/model.zip")), "killed before the model was written");
        List<EpochRecord> beforeKill = history(out);

        BusiCliTest.Result resumed = BusiCliTest.run(train(data, out, "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        java.util.regex.Matcher after = java.util.regex.Pattern.compile("resuming after epoch (\\d+)").matcher(resumed.out());
        assertTrue(after.find(), resumed.out());
        int done = Integer.parseInt(after.group(1));
        assertTrue(done >= 1 && done < EPOCHS, "resumed from a checkpoint written before the kill: " + done);
        assertFalse(resumed.out().contains("epoch 1/" + EPOCHS + " "), "epoch 1 is not trained again");
        assertTrue(Files.size(out.resolve("model/model.zip")) > 100_000);

        List<EpochRecord> history = history(out);
        assertEquals(List.of(1, 2, 3), history.stream().map(EpochRecord::epoch).toList());
        assertEquals(beforeKill.subList(0, done), history.subList(0, done), "the epochs before the kill are kept as they were");
        var cfg = ConfigLoader.load(new File("conf/local.conf"), Map.of("busi.train.epochs", String.valueOf(EPOCHS))).train();
        for (EpochRecord r : history) {
            assertEquals(LearningRates.at(cfg, r.epoch() - 1), r.learningRate(), 1e-12, "same schedule, epoch " + r.epoch());
        }

        // An uninterrupted run on the same data and seed. Local runs repeat exactly, and a checkpoint holds the
        // network with its updater state, so the resumed run ends where the uninterrupted one does (seen: the
        // same last-epoch train loss to all printed digits, 1.712469). A relative 1e-3 leaves room for
        // floating-point noise; a resume that restarted from scratch or lost the updater state is far off.
        Path reference = tmp.resolve("reference");
        BusiCliTest.Result whole = BusiCliTest.run(train(data, reference));
        assertEquals(0, whole.code(), whole.err());
        List<EpochRecord> uninterrupted = history(reference);
        for (int e = done; e < EPOCHS; e++) {
            double resumedLoss = history.get(e).trainLoss();
            double referenceLoss = uninterrupted.get(e).trainLoss();
            assertTrue(Double.isFinite(resumedLoss) && resumedLoss > 0, "train loss " + resumedLoss);
            assertEquals(referenceLoss, resumedLoss, 1e-3 * referenceLoss, "train loss of epoch " + (e + 1)
                    + ", resumed against uninterrupted");
            // Validation runs on pooled networks: both runs share this JVM, and a pool left by the first run's
            // Spark context under the same broadcast id once scored the second run's epoch with the wrong model.
            double referenceValLoss = uninterrupted.get(e).validationLoss();
            assertEquals(referenceValLoss, history.get(e).validationLoss(), 1e-3 * referenceValLoss,
                    "validation loss of epoch " + (e + 1));
            assertEquals(uninterrupted.get(e).validationMacroF1(), history.get(e).validationMacroF1(), 1e-3,
                    "validation macro-F1 of epoch " + (e + 1));
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
