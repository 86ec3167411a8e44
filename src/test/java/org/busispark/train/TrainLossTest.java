package org.busispark.train;

import org.apache.hadoop.conf.Configuration;
import org.busispark.cli.BusiCliTest;
import org.busispark.storage.Storage;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The train loss in the history is the loss on the data, without the weight-decay penalty DL4J adds to its score. */
@ExtendWith(StopsSpark.class)
class TrainLossTest {
    @TempDir
    Path tmp;

    private double firstEpochLoss(Path data, String weightDecay) {
        Path out = tmp.resolve("wd-" + weightDecay);
        BusiCliTest.Result r = BusiCliTest.run("train", "--conf", "conf/local.conf", "-Dbusi.train.epochs=1",
                "-Dbusi.train.weight-decay=" + weightDecay, "--data", data.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        return TrainJob.readHistory(new Storage(new Configuration()), out.toUri().toString()).get(0).trainLoss();
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
