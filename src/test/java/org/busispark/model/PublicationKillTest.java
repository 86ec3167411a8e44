package org.busispark.model;

import org.apache.hadoop.conf.Configuration;
import org.busispark.config.ConfigLoader;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.busispark.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A publisher JVM killed (SIGKILL) at random moments while it publishes model versions to a local store, again
 * and again. After every kill, whatever state the store is in must be safe to serve from: {@code latest} is absent
 * or names a complete version that loads, with a recorded decision that promoted it; every version with its
 * {@code _COMMITTED} marker loads; every version without one is refused; every decision file is whole.
 */
class PublicationKillTest {
    private static final String NAME = "busi-resnet";
    private static final int KILLS = 8;
    /** Files of the stand-in evaluation: enough that most of a publication's time is spent writing a version. */
    private static final int EVALUATION_FILES = 20;
    @TempDir
    Path tmp;

    /** The child: publishes versions as `busi run` does (commit, decision, latest) until it is killed. */
    public static final class Publisher {
        public static void main(String[] args) {
            Storage storage = new Storage(new Configuration());
            String store = args[0];
            Promotion promotion = new Promotion(ConfigLoader.defaults().store().promotion(), "kill test");
            for (int i = 0; ; i++) {
                String version = ModelRegistry.commit(storage, store, NAME, args[1], args[2]);
                Optional<String> champion = ModelRegistry.latestVersion(storage, store, NAME);
                // Every other challenger wins, so that kills also land around writes of latest.
                ModelRegistry.decide(storage, store, NAME, i % 2 == 0
                        ? promotion.manual(version, champion.orElse(null), "kill test: promote")
                        : promotion.unmeasured(version, champion.orElse(null), "kill test: keep"));
                System.out.println("published " + version);
            }
        }
    }

    @Test
    void killedPublishersLeaveAStoreThatServesOnlyCompleteVersions() throws Exception {
        Storage storage = new Storage(new Configuration());
        String modelDir = TinyModel.save(storage, tmp.resolve("model").toString(), 1);
        Path evaluation = Files.createDirectories(tmp.resolve("evaluation/plots"));
        for (int i = 0; i < EVALUATION_FILES; i++) {
            Files.write(evaluation.resolve(String.format("plot-%03d.png", i)), new byte[4096]);
        }
        String store = Storage.normalize(tmp.resolve("store").toString());
        SplittableRandom random = new SplittableRandom(7);
        Map<String, Integer> state = null;
        int served = 0;
        for (int kill = 0; kill < KILLS; kill++) {
            Path log = tmp.resolve("publisher-" + kill + ".log");
            Process child = new ProcessBuilder(ChildJvm.command("256m", Publisher.class.getName(), store, modelDir,
                    tmp.resolve("evaluation").toString())).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                long deadline = System.nanoTime() + 60_000_000_000L;
                // After its first (cold, slow) publication, which promotes, kill it at a random moment of the next ones.
                while (!Files.readString(log).contains("published v")) {
                    assertTrue(child.isAlive() && System.nanoTime() < deadline, () -> "publisher starts: " + read(log));
                    Thread.sleep(20);
                }
                Thread.sleep(random.nextInt(0, 2000));
                assertTrue(child.isAlive(), () -> "the publisher was still publishing: " + read(log));
            } finally {
                ChildJvm.kill(child);
            }
            state = checkInvariants(storage, store);
            served += state.getOrDefault("served", 0);
        }
        // The kills really landed mid-publication, and publications also completed between them. (In the instant a
        // local file system replaces latest, by a delete and a rename, a kill would leave no latest to serve.)
        assertTrue(state.getOrDefault("incomplete", 0) >= 2, "versions cut off by a kill: " + state);
        assertTrue(state.getOrDefault("committed", 0) >= KILLS, "complete versions: " + state);
        assertTrue(served >= KILLS - 1, "kills after which latest served a version: " + served);
    }

    /** Checks the store and counts its incomplete and committed versions, and whether latest serves one. */
    private static Map<String, Integer> checkInvariants(Storage storage, String store) throws IOException {
        String model = ModelRegistry.modelUri(store, NAME);
        Path modelPath = Path.of(java.net.URI.create(model));
        Map<String, Integer> seen = new TreeMap<>();
        List<Promotion.Decision> decisions = decisions(modelPath);
        Optional<String> latest = ModelRegistry.latestVersion(storage, store, NAME);
        if (latest.isPresent()) {
            String named = latest.get();
            assertEquals(model + "/" + named, ModelStore.load(storage, model, TinyModel.CLASSES).dir(), "latest loads");
            assertTrue(decisions.stream().anyMatch(d -> d.promoted() && d.challenger().equals(named)),
                    "latest's version was promoted by a recorded decision: " + named);
            seen.merge("served", 1, Integer::sum);
        }
        try (Stream<Path> versions = Files.list(modelPath)) {
            for (Path v : versions.filter(p -> p.getFileName().toString().startsWith("v")).toList()) {
                String uri = model + "/" + v.getFileName();
                if (Files.exists(v.resolve(ModelRegistry.COMMITTED))) {
                    assertEquals(uri, ModelStore.load(storage, uri, TinyModel.CLASSES).dir());
                    seen.merge("committed", 1, Integer::sum);
                } else {
                    ModelLoadException e = assertThrows(ModelLoadException.class,
                            () -> ModelStore.load(storage, uri, TinyModel.CLASSES), "an incomplete version never loads");
                    assertTrue(e.getMessage().contains("incomplete"), e.getMessage());
                    seen.merge("incomplete", 1, Integer::sum);
                }
            }
        }
        for (Promotion.Decision d : decisions) {
            if (d.promoted()) {
                assertTrue(Files.exists(modelPath.resolve(d.challenger()).resolve(ModelRegistry.COMMITTED)),
                        "only complete versions are promoted: " + d);
            }
        }
        return seen;
    }

    /** Every decision file parses: each was written whole or not at all. */
    private static List<Promotion.Decision> decisions(Path model) throws IOException {
        Path dir = model.resolve(ModelRegistry.PROMOTIONS_DIR);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Promotion.Decision> out = new java.util.ArrayList<>();
            for (Path f : files.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                out.add(Json.read(Files.readString(f), Promotion.Decision.class));
            }
            return out;
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
