package org.busispark.model;

import org.apache.hadoop.conf.Configuration;
import org.busispark.config.BusiConfig;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Champion/challenger decisions, and how the registry records them and moves latest. */
class PromotionTest {
    private static final String V1 = "v20261125T191000Z-aaaaaa";
    private static final String V2 = "v20261126T191000Z-bbbbbb";
    private static final Promotion BY_F1 = new Promotion(new BusiConfig.Promotion("macro-f1", 0.01), "busi run");
    private static final Storage STORAGE = new Storage(new Configuration());
    @TempDir
    Path dir;

    private static Promotion.Decision f1(double challenger, double champion) {
        return BY_F1.decide(new Promotion.Score(V2, challenger, 90), new Promotion.Score(V1, champion, 90), "file:/d (split test)");
    }

    @Test
    void aChallengerMustBeatTheChampionByTheMargin() {
        Promotion.Decision win = f1(0.51, 0.50);
        assertTrue(win.promoted(), "exactly the margin is enough, despite 0.51 - 0.50 < 0.01 in floating point");
        assertEquals(V2, win.challenger());
        assertEquals(V1, win.champion());
        assertEquals(0.51, win.challengerValue());
        assertEquals(0.50, win.championValue());
        assertEquals(0.01, win.minImprovement());
        assertEquals(90L, win.testImages());
        assertEquals("macro-f1", win.metric());
        assertEquals("busi run", win.decidedBy());
        assertEquals("file:/d (split test)", win.testData());
        assertEquals("macro-f1 0.5100 against the champion's 0.5000 on the same 90 test images: +0.0100, at least "
                + "the required +0.0100", win.reason());

        Promotion.Decision shortOf = f1(0.509, 0.50);
        assertFalse(shortOf.promoted());
        assertTrue(shortOf.reason().contains("+0.0090, short of the required +0.0100"), shortOf.reason());
        assertFalse(f1(0.50, 0.50).promoted(), "a tie does not beat a positive margin");
        assertFalse(f1(0.30, 0.50).promoted());
        assertFalse(f1(Double.NaN, 0.50).promoted(), "an undefined metric never promotes");
    }

    @Test
    void aNegativeMarginPromotesSlightlyWorseChallengers() {
        Promotion lenient = new Promotion(new BusiConfig.Promotion("accuracy", -0.05), "busi run");
        Promotion.Score champion = new Promotion.Score(V1, 0.60, 10);
        assertTrue(lenient.decide(new Promotion.Score(V2, 0.56, 10), champion, "d").promoted());
        assertFalse(lenient.decide(new Promotion.Score(V2, 0.54, 10), champion, "d").promoted());
    }

    @Test
    void theFirstVersionIsPromotedAndAnUnmeasuredOneOnlyIfFirst() {
        Promotion.Decision first = BY_F1.decide(new Promotion.Score(V1, 0.1, 9), null, "d");
        assertTrue(first.promoted());
        assertNull(first.champion());
        assertEquals(0.1, first.challengerValue());
        assertTrue(first.reason().contains("no champion"), first.reason());

        assertTrue(BY_F1.unmeasured(V1, null, "not evaluated").promoted());
        Promotion.Decision kept = BY_F1.unmeasured(V2, V1, "not evaluated on a test split");
        assertFalse(kept.promoted());
        assertNull(kept.challengerValue());
        assertTrue(kept.reason().startsWith("not evaluated on a test split; the champion " + V1 + " stays"), kept.reason());
    }

    @Test
    void scoresOnDifferentTestSetsAreNotCompared() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BY_F1.decide(new Promotion.Score(V2, 0.9, 91), new Promotion.Score(V1, 0.1, 90), "d"));
        assertTrue(e.getMessage().contains("different test sets (90 and 91 images)"), e.getMessage());
    }

    @Test
    void decisionsAreRecordedOnePerFileAndOnlyPromotionsMoveLatest() throws IOException {
        String store = Storage.normalize(dir.resolve("store").toString());
        String modelDir = TinyModel.save(STORAGE, dir.resolve("m").toString(), 1);
        String model = ModelRegistry.modelUri(store, "m");
        String v1 = ModelRegistry.commit(STORAGE, store, "m", modelDir, null);
        assertEquals(java.util.Optional.empty(), ModelRegistry.latestVersion(STORAGE, store, "m"), "commit alone promotes nothing");
        ModelRegistry.decide(STORAGE, store, "m", BY_F1.decide(new Promotion.Score(v1, 0.4, 9), null, "d"));
        assertEquals(v1, ModelRegistry.latestVersion(STORAGE, store, "m").orElseThrow());

        String v2 = ModelRegistry.commit(STORAGE, store, "m", modelDir, null);
        ModelRegistry.decide(STORAGE, store, "m", BY_F1.decide(new Promotion.Score(v2, 0.3, 9),
                new Promotion.Score(v1, 0.4, 9), "d"));
        assertEquals(v1, ModelRegistry.latestVersion(STORAGE, store, "m").orElseThrow(), "a losing challenger");
        assertEquals(model + "/" + v1, ModelStore.load(STORAGE, model, TinyModel.CLASSES).dir());

        List<Path> records;
        try (Stream<Path> s = Files.list(Path.of(java.net.URI.create(model + "/" + ModelRegistry.PROMOTIONS_DIR)))) {
            records = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertEquals(2, records.size());
        assertTrue(records.get(0).getFileName().toString().matches("\\d{8}T\\d{6}\\.\\d{3}Z-" + v1 + "\\.json"), records.toString());
        Promotion.Decision lost = Json.read(Files.readString(records.get(1)), Promotion.Decision.class);
        assertEquals(v2, lost.challenger());
        assertEquals(v1, lost.champion());
        assertFalse(lost.promoted());
        assertEquals(0.3, lost.challengerValue());

        // An operator rolls forward to v2 by hand; a promotion of a version that is not complete is refused.
        ModelRegistry.decide(STORAGE, store, "m", BY_F1.manual(v2, v1, "operator"));
        assertEquals(v2, ModelRegistry.latestVersion(STORAGE, store, "m").orElseThrow());
        String missing = "v20990101T000000Z-cccccc";
        assertThrows(ModelLoadException.class, () -> ModelRegistry.decide(STORAGE, store, "m", BY_F1.manual(missing, v2, "x")));
        assertThrows(IllegalArgumentException.class, () -> ModelRegistry.decide(STORAGE, store, "m", BY_F1.manual("../x", v2, "x")));
        assertEquals(v2, ModelRegistry.latestVersion(STORAGE, store, "m").orElseThrow());
    }
}
