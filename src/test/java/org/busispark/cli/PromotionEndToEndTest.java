package org.busispark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.busispark.model.ModelRegistry;
import org.busispark.model.Promotion;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scheduled retraining in miniature: three `busi run`s into one store, all on one dataset (so one frozen test
 * split), through the real CLI and local Spark. The first version is promoted; a second, identical run is
 * published but not promoted (a tie is no +0.01 improvement), with the champion re-evaluated on the same test
 * images; a third with a negative margin is promoted; `busi promote` rolls latest back by hand.
 */
@ExtendWith(StopsSpark.class)
class PromotionEndToEndTest {
    private static final String NAME = "busi-resnet";
    @TempDir
    Path tmp;

    private BusiCliTest.Result run(String output, String... overrides) {
        List<String> args = new ArrayList<>(List.of("run", "--conf", "conf/local.conf", "-Dbusi.train.epochs=2",
                "-Dbusi.train.checkpoint-every=0", "-Dbusi.store.uri=" + tmp.resolve("store"),
                "--input", "data/sample/busi", "--dataset", tmp.resolve("dataset").toString(),
                "--output", tmp.resolve(output).toString()));
        args.addAll(List.of(overrides));
        BusiCliTest.Result r = BusiCliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), () -> r.err() + "\n" + r.out());
        return r;
    }

    private Path model() {
        return tmp.resolve("store/models/" + NAME);
    }

    private String latest() throws IOException {
        return Files.readString(model().resolve(ModelRegistry.LATEST)).strip();
    }

    /** The decisions, oldest first. */
    private List<Promotion.Decision> decisions() throws IOException {
        try (Stream<Path> files = Files.list(model().resolve(ModelRegistry.PROMOTIONS_DIR))) {
            List<Path> sorted = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            List<Promotion.Decision> out = new ArrayList<>();
            for (Path p : sorted) {
                out.add(Json.read(Files.readString(p), Promotion.Decision.class));
            }
            return out;
        }
    }

    private JsonNode metrics(Path metricsJson) throws IOException {
        return Json.tree(Files.readString(metricsJson)).get("metrics");
    }

    @Test
    void aChallengerReplacesTheChampionOnlyWhenItWinsOnTheSameTestImages() throws IOException {
        run("run-1");
        String v1 = latest();
        Promotion.Decision first = decisions().get(0);
        assertTrue(first.promoted());
        assertEquals(v1, first.challenger());
        assertNull(first.champion());
        assertFalse(Files.exists(tmp.resolve("run-1/" + BusiCli.CHAMPION_EVALUATION)), "no champion to re-evaluate");
        double v1Stored = metrics(model().resolve(v1 + "/metrics.json")).get("macroF1").asDouble();
        assertEquals(v1Stored, first.challengerValue());

        // The same data, seed and settings: local runs repeat exactly, so the challenger ties the champion.
        BusiCliTest.Result second = run("run-2");
        assertTrue(second.out().contains(", 0 of them new; 60 already in the dataset"),
                "the second run ingests nothing new, so the test split is the first run's: " + second.out());
        assertEquals(v1, latest(), "a tie is not the +0.01 that busi.store.promotion.min-improvement asks for");
        Promotion.Decision tie = decisions().get(1);
        assertFalse(tie.promoted());
        assertEquals(v1, tie.champion());
        assertTrue(Files.exists(model().resolve(tie.challenger() + "/" + ModelRegistry.COMMITTED)), "published anyway");
        assertTrue(tie.reason().contains("short of the required +0.0100"), tie.reason());
        assertTrue(second.out().contains("not promoted " + tie.challenger()), second.out());

        // Both were measured on the same test images: the champion's re-evaluation in this run reproduces its
        // stored metrics (same model, same frozen split), and the challenger's value is its own evaluation's.
        JsonNode challengerMetrics = metrics(tmp.resolve("run-2/evaluation/metrics.json"));
        JsonNode championMetrics = metrics(tmp.resolve("run-2/" + BusiCli.CHAMPION_EVALUATION + "/metrics.json"));
        assertEquals(challengerMetrics.get("count").asLong(), championMetrics.get("count").asLong());
        assertEquals(challengerMetrics.get("count").asLong(), tie.testImages());
        assertEquals(v1Stored, tie.championValue(), 1e-12);
        assertEquals(challengerMetrics.get("macroF1").asDouble(), tie.challengerValue(), 1e-12);
        assertEquals(tie.championValue(), tie.challengerValue(), 1e-12, "identical training, identical scores");
        assertEquals(Storage.normalize(model().resolve(v1).toString()),
                Json.tree(Files.readString(tmp.resolve("run-2/" + BusiCli.CHAMPION_EVALUATION + "/metrics.json")))
                        .get("model").asText());

        // A negative margin promotes a challenger that merely ties.
        BusiCliTest.Result third = run("run-3", "-Dbusi.store.promotion.min-improvement=-0.01");
        Promotion.Decision lenient = decisions().get(2);
        assertTrue(lenient.promoted(), lenient.reason());
        assertEquals(v1, lenient.champion());
        assertEquals(lenient.challenger(), latest());
        assertTrue(third.out().contains("promoted " + lenient.challenger()), third.out());

        // An operator rolls back to v1; a version that is not in the store is refused and changes nothing.
        BusiCliTest.Result rollback = BusiCliTest.run("promote", "--conf", "conf/local.conf", "--store",
                tmp.resolve("store").toString(), "--name", NAME, "--version", v1, "--reason", "rollback after review");
        assertEquals(0, rollback.code(), rollback.err());
        assertEquals(v1, latest());
        Promotion.Decision manual = decisions().get(3);
        assertEquals("rollback after review", manual.reason());
        assertEquals(lenient.challenger(), manual.champion());
        assertEquals("busi promote", manual.decidedBy());
        BusiCliTest.Result bogus = BusiCliTest.run("promote", "--store", tmp.resolve("store").toString(),
                "--version", "v20990101T000000Z-000000");
        assertEquals(2, bogus.code(), bogus.err());
        assertTrue(bogus.err().contains("No model version at"), bogus.err());
        assertEquals(v1, latest());
        assertEquals(4, decisions().size());
    }
}
