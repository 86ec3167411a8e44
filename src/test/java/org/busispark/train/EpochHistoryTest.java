package org.busispark.train;

import org.apache.hadoop.conf.Configuration;
import org.busispark.cli.BusiCliTest;
import org.busispark.storage.Storage;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code history/epochs.jsonl} reports about training. */
@ExtendWith(StopsSpark.class)
class EpochHistoryTest {
    @TempDir
    Path tmp;

    private List<EpochRecord> train(Path data, String name, String... settings) {
        Path out = tmp.resolve(name);
        List<String> args = new ArrayList<>(List.of("train", "--conf", "conf/local.conf", "--data", data.toString(),
                "--output", out.toString()));
        args.addAll(List.of(settings));
        BusiCliTest.Result r = BusiCliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return TrainJob.readHistory(new Storage(new Configuration()), out.toUri().toString());
    }

    private double firstEpochLoss(Path data, String weightDecay) {
        return train(data, "wd-" + weightDecay, "-Dbusi.train.epochs=1", "-Dbusi.train.weight-decay=" + weightDecay)
                .get(0).trainLoss();
    }

    @Test
    void trainAccuracyIsMeasuredEveryNthEpochAndAtTheLast() {
        Path data = BusiCliTest.ingestSample(tmp);
        List<EpochRecord> history = train(data, "every-2", "-Dbusi.train.epochs=3",
                "-Dbusi.train.train-accuracy-every=2");
        assertEquals(List.of(1, 2, 3), history.stream().map(EpochRecord::epoch).toList());
        assertTrue(Double.isNaN(history.get(0).trainAccuracy()), "epoch 1 skipped");
        for (EpochRecord r : history.subList(1, 3)) {
            assertTrue(r.trainAccuracy() >= 0 && r.trainAccuracy() <= 1, "measured in epoch " + r.epoch());
            assertTrue(Double.isFinite(r.validationMacroF1()) && Double.isFinite(r.trainLoss()));
        }
        assertTrue(Double.isFinite(history.get(0).validationMacroF1()), "validation runs every epoch");
    }

    @Test
    void weightDecayPenaltyIsNotReportedAsLoss() {
        Path data = BusiCliTest.ingestSample(tmp);
        double plain = firstEpochLoss(data, "0");
        double decayed = firstEpochLoss(data, "0.5");
        // The penalty at coefficient 0.5 is 0.25 · |w|², in the hundreds for this network; one epoch's decay
        // (rate 3e-4) hardly changes the fit, so the data losses stay close.
        assertTrue(plain > 0.1 && plain < 5, "cross-entropy of a fresh 3-class model: " + plain);
        assertEquals(plain, decayed, 0.2);
    }
}
