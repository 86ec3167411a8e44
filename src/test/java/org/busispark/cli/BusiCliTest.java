package org.busispark.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class BusiCliTest {
    public record Result(int code, String out, String err) {}

    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BusiCli.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /** Ingests the committed sample into {@code dir}/dataset and returns that folder. */
    public static java.nio.file.Path ingestSample(java.nio.file.Path dir) {
        java.nio.file.Path data = dir.resolve("dataset");
        Result r = run("ingest", "--conf", "conf/local.conf", "--input", "data/sample/busi", "--output", data.toString());
        assertEquals(0, r.code(), r.err());
        return data;
    }

    @Test
    void topLevelHelpListsEveryStage() {
        Result r = run("--help");
        assertEquals(0, r.code());
        for (String cmd : new String[] {"ingest", "train", "evaluate", "score", "run"}) {
            assertTrue(r.out().contains("  " + cmd + " "), "help lists " + cmd + ":\n" + r.out());
        }
        assertTrue(r.out().contains("busi run --conf conf/local.conf"), r.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ingest", "train", "evaluate", "score", "run", "augment-preview"})
    void eachStageHasHelp(String stage) {
        Result r = run(stage, "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("Usage: busi " + stage), r.out());
        assertTrue(r.out().contains("--conf=FILE"), r.out());
        assertTrue(r.out().contains("Writes <output>/"), r.out());
    }

    @Test
    void promoteTakesAVersionAndNeedsAStore() {
        Result help = run("promote", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().startsWith("Usage: busi promote") && help.out().contains("--version=VERSION")
                && help.out().contains("promotions/"), help.out());
        assertTrue(run("--help").out().contains("  promote "), "the top-level help lists promote");
        Result noStore = run("promote", "--version", "v20261125T191000Z-3fa2c1");
        assertEquals(2, noStore.code());
        assertTrue(noStore.err().contains("No model store: pass --store or set busi.store.uri"), noStore.err());
        assertEquals(2, run("promote").code(), "--version is required");
    }

    @Test
    void unknownOptionIsAUsageError() {
        Result r = run("ingest", "--input", "x", "--output", "y", "--bogus");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Unknown option: '--bogus'"), r.err());
    }

    @Test
    void missingRequiredOptionIsAUsageError() {
        Result r = run("train", "--output", "y");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Missing required option: '--data=URI'"), r.err());
    }

    @Test
    void unknownCommandIsAUsageError() {
        Result r = run("fly");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Unmatched argument"), r.err());
    }

    @Test
    void badSettingValueNamesTheKeyBeforeSparkStarts() {
        Result r = run("ingest", "--input", "x", "--output", "y", "-Dbusi.train.epochs=many");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("busi.train.epochs") && r.err().contains("integer"), r.err());
    }

    @Test
    void unknownSettingIsRejected() {
        Result r = run("ingest", "--input", "x", "--output", "y", "-Dbusi.train.epochz=3");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Unknown setting busi.train.epochz"), r.err());
    }

    @Test
    void missingConfFileIsAUserError() {
        Result r = run("ingest", "--input", "x", "--output", "y", "--conf", "no/such.conf");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Configuration file not found: no/such.conf"), r.err());
    }
}
