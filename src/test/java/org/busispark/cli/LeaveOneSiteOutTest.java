package org.busispark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.busispark.storage.Json;
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

/**
 * Leave-one-site-out through `busi run` on the two committed samples: the model trains on BUSI alone and is tested
 * on every BUS-BRA image, whatever split ingest gave it.
 */
@ExtendWith(StopsSpark.class)
class LeaveOneSiteOutTest {
    @TempDir
    Path out;

    @Test
    void runWithAHeldOutSiteTrainsWithoutItAndTestsOnAllOfIt() throws Exception {
        BusiCliTest.Result r = BusiCliTest.run("run", "--conf", "conf/multi-site.conf", "--holdout-site", "BUS-BRA",
                "-Dbusi.train.epochs=1", "-Dbusi.model.input-size=64", "-Dbusi.model.width-multiplier=0.25",
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("site BUS-BRA held out"), r.out());

        JsonNode card = Json.tree(Files.readString(out.resolve("model/model-card.json")));
        assertEquals("BUS-BRA", card.get("training").get("holdoutSite").asText());
        JsonNode perSite = card.get("trainingData").get("trainImagesPerSite");
        assertEquals(List.of("BUSI"), List.copyOf(iterable(perSite.fieldNames())), "trained on BUSI alone");

        JsonNode metrics = Json.tree(Files.readString(out.resolve("evaluation/metrics.json")));
        long braImages = Files.readAllLines(Path.of("data/sample/bus-bra/bus_data.csv")).size() - 1;
        assertEquals(braImages, metrics.get("imagesSeen").asLong(), "tested on every BUS-BRA image");
        assertEquals("BUS-BRA", metrics.get("site").asText());
        assertFalse(metrics.hasNonNull("split"), "all splits of the held-out site");
        assertEquals(List.of("BUS-BRA"), List.copyOf(iterable(metrics.get("perSite").fieldNames())));
        JsonNode macroF1 = metrics.path("metrics").path("macroF1");
        assertTrue(macroF1.isNumber() && !Double.isNaN(macroF1.asDouble()), "macro-F1 over the classes BUS-BRA has");

        BusiCliTest.Result typo = BusiCliTest.run("train", "--conf", "conf/multi-site.conf", "--data",
                out.resolve("dataset").toString(), "--output", out.resolve("typo").toString(),
                "-Dbusi.train.holdout-site=BUS-BR");
        assertEquals(2, typo.code(), typo.err());
        assertTrue(typo.err().contains("Site 'BUS-BR' is not in the dataset") && typo.err().contains("[BUS-BRA, BUSI]"),
                typo.err());
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
