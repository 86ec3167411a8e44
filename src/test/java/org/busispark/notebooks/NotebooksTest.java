package org.busispark.notebooks;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.busispark.cli.BusiCliTest;
import org.busispark.storage.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every Zeppelin notebook parses, and every one of its SQL paragraphs runs against the real outputs of a
 * small local run, with the notebook's path parameters pointed at them: a notebook cannot rot unnoticed.
 */
class NotebooksTest {
    private static final Pattern FORM = Pattern.compile("\\$\\{(\\w+)=([^}]*)}");
    @TempDir
    static Path tmp;
    private static final Map<String, String> PARAMS = new HashMap<>();
    private static SparkSession spark;

    @BeforeAll
    static void runPipelineAndScore() {
        Path run = tmp.resolve("runs/r1");
        BusiCliTest.Result r = BusiCliTest.run("run", "--conf", "conf/local.conf", "-Dbusi.train.epochs=1",
                "--input", "data/sample/busi", "--output", run.toString());
        assertEquals(0, r.code(), r.err());
        r = BusiCliTest.run("score", "--conf", "conf/local.conf", "--model", run.toString(),
                "--input", "data/sample/busi/malignant", "--output", tmp.resolve("scores").toString());
        assertEquals(0, r.code(), r.err());
        PARAMS.put("run", run.toUri().toString());
        PARAMS.put("runs", tmp.resolve("runs").toUri() + "*");
        PARAMS.put("dataset", run.resolve("dataset").toUri().toString());
        PARAMS.put("scores", tmp.resolve("scores").toUri().toString());
        spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    }

    @AfterAll
    static void stopSpark() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** Zeppelin's dynamic-form syntax ${name=default}, filled from PARAMS (or the default where unset). */
    static String fill(String sql) {
        Matcher m = FORM.matcher(sql);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(PARAMS.getOrDefault(m.group(1), m.group(2))));
        }
        m.appendTail(out);
        return out.toString();
    }

    static Map<String, List<Row>> runNotebook(String file) throws Exception {
        JsonNode note = Json.tree(Files.readString(Path.of("notebooks", file)));
        for (String field : new String[] {"paragraphs", "name", "id", "defaultInterpreterGroup", "version", "config"}) {
            assertTrue(note.has(field), file + " has " + field);
        }
        Map<String, List<Row>> results = new HashMap<>();
        int sql = 0;
        for (JsonNode p : note.get("paragraphs")) {
            String text = p.get("text").asText();
            assertTrue(p.has("id") && p.has("config"), "paragraph shape");
            if (text.startsWith("%spark.sql")) {
                sql++;
                String query = fill(text.substring(text.indexOf('\n') + 1));
                assertFalse(FORM.matcher(query).find());
                results.put(p.path("title").asText(), spark.sql(query).collectAsList());
            } else {
                assertTrue(text.startsWith("%md"), "only %md and %spark.sql paragraphs: " + text);
            }
        }
        assertTrue(sql >= 4, file + " has SQL paragraphs");
        return results;
    }

    @ParameterizedTest
    @ValueSource(strings = {"training-run.zpln", "dataset.zpln", "scoring-run.zpln"})
    void everySqlParagraphRuns(String file) throws Exception {
        runNotebook(file).forEach((title, rows) -> {
            boolean mayBeEmpty = title.equals("Errors") || title.equals("Missed malignant")
                    || title.equals("Quarantine") || title.equals("Label conflicts") || title.equals("Duplicate groups");
            assertTrue(mayBeEmpty || !rows.isEmpty(), file + ": " + title + " returned rows");
        });
    }

    @Test
    void numbersAgreeWithTheRun() throws Exception {
        Map<String, List<Row>> dataset = runNotebook("dataset.zpln");
        assertEquals(60, dataset.get("Class balance").stream().mapToLong(r -> r.getLong(2)).sum());
        Map<String, List<Row>> training = runNotebook("training-run.zpln");
        long confusion = training.get("Confusion matrix").stream()
                .mapToLong(r -> r.getLong(1) + r.getLong(2) + r.getLong(3)).sum();
        JsonNode metrics = Json.tree(Files.readString(Path.of(java.net.URI.create(PARAMS.get("run")))
                .resolve("evaluation/metrics.json")));
        assertEquals(metrics.get("metrics").get("count").asLong(), confusion);
        List<Row> perSite = training.get("Per-site metrics");
        assertEquals(metrics.get("perSite").size(), perSite.size());
        for (Row site : perSite) {
            JsonNode expected = metrics.get("perSite").get(site.getString(0));
            assertEquals(expected.get("metrics").get("count").asLong(), site.getInt(1), site.getString(0));
            assertEquals(expected.get("metrics").get("accuracy").asDouble(), site.getDouble(2), 1e-4);
            assertEquals(expected.get("metrics").get("macroF1").asDouble(), site.getDouble(3), 1e-4);
        }
        List<Row> headline = training.get("Headline metrics");
        assertEquals(headline.size(), headline.stream().map(r -> r.getString(0)).distinct().count(),
                "one row per metric: the overall ones, not each site's as well");
        assertEquals(1, training.get("Compare runs").size());
        Map<String, List<Row>> scoring = runNotebook("scoring-run.zpln");
        assertEquals(20, scoring.get("Distribution of predictions").stream().mapToLong(r -> r.getLong(1)).sum());
        assertEquals(20, scoring.get("Most suspicious").size());
    }
}
