package org.busispark.model;

import org.busispark.storage.Json;
import org.busispark.storage.Progress;
import org.busispark.storage.Storage;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Versioned models in a store: {@code <store>/models/<name>/<version>/} holds {@code model.zip},
 * {@code model-card.json} and, when the model was evaluated in the same job, the evaluation's outputs;
 * {@code <store>/models/<name>/latest} names the champion: the version last promoted ({@link Promotion}), and
 * {@code <store>/models/<name>/promotions/} holds every promotion decision.
 *
 * <p>Visibility never relies on renames, which are non-atomic copies on s3a: every file of a version is written
 * in its final folder, then the version's {@code _COMMITTED} marker (its files and their sizes), then the
 * promotion decision and, if it promotes, {@code latest}; each single write is atomic ({@link Storage#writeBytes}).
 * A version without its marker is incomplete and never loaded, so a crash at any point leaves {@code latest} on
 * the previous complete version.
 */
public final class ModelRegistry {
    public static final String MODELS_DIR = "models";
    public static final String LATEST = "latest";
    public static final String COMMITTED = "_COMMITTED";
    /** One JSON file per promotion decision, named so that they sort by time. */
    public static final String PROMOTIONS_DIR = "promotions";
    /** UTC to the second, so that versions sort by time; the random suffix keeps same-second publishers apart. */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DECIDED = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final Pattern VERSION = Pattern.compile("v\\d{8}T\\d{6}Z-[0-9a-f]{6}");

    private ModelRegistry() {}

    /** What {@code _COMMITTED} holds: every file of the version with its size in bytes. */
    public record Commit(String name, String version, String publishedAt, Map<String, Long> files) {}

    /** {@code <store>/models/<name>}: what {@code --model} takes to load the latest version. */
    public static String modelUri(String storeUri, String name) {
        return Storage.child(Storage.child(storeUri, MODELS_DIR), name);
    }

    static String newVersion(Instant at) {
        return "v" + TIME.format(at) + "-" + UUID.randomUUID().toString().substring(0, 6);
    }

    /**
     * Publishes the model in {@code modelDir} (anything {@link ModelStore#resolveDir} accepts) and, unless null,
     * every file under {@code evaluationDir} as a new committed version, and returns it. {@code latest} does not
     * move: that is {@link #decide}'s.
     */
    public static String commit(Storage storage, String storeUri, String name, String modelDir, String evaluationDir) {
        return commit(storage, storeUri, name, modelDir, evaluationDir, newVersion(Instant.now()));
    }

    static String commit(Storage storage, String storeUri, String name, String modelDir, String evaluationDir,
                         String version) {
        Progress progress = new Progress("publish");
        String dir = Storage.child(modelUri(storeUri, name), version);
        if (storage.exists(Storage.child(dir, COMMITTED))) {
            throw new IllegalStateException("Model version " + dir + " is already published; versions never change");
        }
        String source = ModelStore.resolveDir(storage, modelDir);
        Map<String, String> sources = new TreeMap<>();
        for (String file : new String[] {ModelStore.MODEL_FILE, ModelStore.CARD_FILE}) {
            sources.put(file, Storage.child(source, file));
        }
        if (evaluationDir != null) {
            storage.listFiles(evaluationDir).keySet().forEach(f -> sources.putIfAbsent(f, Storage.child(evaluationDir, f)));
        }
        sources.forEach((file, from) -> storage.copy(from, Storage.child(dir, file)));
        Commit commit = new Commit(name, version, Instant.now().toString(), storage.listFiles(dir));
        storage.writeText(Storage.child(dir, COMMITTED), Json.write(commit));
        progress.done("published " + commit.files().size() + " files as version " + version + " in " + dir);
        return version;
    }

    /** True when {@code dir} is a version folder of a store ({@code <store>/models/<name>/<version>}). */
    static boolean isVersion(String dir) {
        String[] parts = Storage.normalize(dir).split("/");
        return parts.length >= 3 && VERSION.matcher(parts[parts.length - 1]).matches()
                && parts[parts.length - 3].equals(MODELS_DIR);
    }

    /** The version {@code latest} names (the champion), without checking it; empty before the first promotion. */
    public static Optional<String> latestVersion(Storage storage, String storeUri, String name) {
        String pointer = Storage.child(modelUri(storeUri, name), LATEST);
        return storage.isFile(pointer) ? Optional.of(storage.readText(pointer).strip()) : Optional.empty();
    }

    /**
     * Records {@code decision} as {@code promotions/<time>-<challenger>.json} and, if it promotes, points
     * {@code latest} at its challenger after checking that the challenger is a complete version. Both are single
     * atomic writes, the decision first: a crash between them leaves a decision that says "promoted" while
     * {@code latest} still names the champion, never a {@code latest} without its decision.
     */
    public static void decide(Storage storage, String storeUri, String name, Promotion.Decision decision) {
        Progress progress = new Progress("promote");
        String model = modelUri(storeUri, name);
        if (!VERSION.matcher(decision.challenger()).matches()) {
            throw new IllegalArgumentException("'" + decision.challenger()
                    + "' is not a model version (like v20261125T191000Z-1a2b3c)");
        }
        String version = Storage.child(model, decision.challenger());
        if (decision.promoted()) {
            committed(storage, version, "");
        }
        String record = Storage.child(Storage.child(model, PROMOTIONS_DIR),
                DECIDED.format(Instant.parse(decision.decidedAt())) + "-" + decision.challenger() + ".json");
        storage.writeText(record, Json.write(decision));
        if (decision.promoted()) {
            storage.writeText(Storage.child(model, LATEST), decision.challenger() + "\n");
        }
        progress.stage((decision.promoted() ? "promoted " + decision.challenger() + ": " + model + "/" + LATEST
                + " now names it" : "not promoted " + decision.challenger() + ": " + LATEST + " stays on "
                + decision.champion()) + " (" + decision.reason() + "); decision in " + record);
    }

    /**
     * The committed version folder that {@code uri} names: a model ({@code <store>/models/<name>}, following its
     * {@code latest}), its {@code latest} file, or a version folder. Null when {@code uri} is none of these; fails
     * when it names a version that is missing, incomplete, or does not match its marker.
     */
    static String resolve(Storage storage, String uri) {
        String u = Storage.normalize(uri);
        String last = u.substring(u.lastIndexOf('/') + 1);
        if (VERSION.matcher(last).matches()) {
            return committed(storage, u, "; " + u.substring(0, u.lastIndexOf('/')) + " loads the latest complete version");
        }
        String pointer = last.equals(LATEST) && storage.isFile(u) ? u : Storage.child(u, LATEST);
        if (!storage.isFile(pointer)) {
            return null;
        }
        String version = storage.readText(pointer).strip();
        if (!VERSION.matcher(version).matches()) {
            throw new ModelLoadException(pointer + " does not name a model version (like v20261125T191000Z-1a2b3c): '"
                    + version + "'");
        }
        return committed(storage, Storage.child(pointer.substring(0, pointer.lastIndexOf('/')), version), "");
    }

    /** {@code dir} after checking it against its marker; {@code hint} ends the message for an incomplete one. */
    private static String committed(Storage storage, String dir, String hint) {
        String marker = Storage.child(dir, COMMITTED);
        if (!storage.exists(dir)) {
            throw new ModelLoadException("No model version at " + dir);
        }
        if (!storage.exists(marker)) {
            throw new ModelLoadException("Model version " + dir + " is incomplete: it has no " + COMMITTED
                    + " marker (its publication did not finish), so it is never loaded" + hint);
        }
        Commit commit;
        try {
            commit = Json.read(storage.readText(marker), Commit.class);
            Objects.requireNonNull(commit.files(), "it lists no files");
        } catch (RuntimeException e) {
            throw new ModelLoadException(marker + " is not a valid commit marker: " + e.getMessage(), e);
        }
        Map<String, Long> found = storage.listFiles(dir);
        commit.files().forEach((file, size) -> {
            if (!size.equals(found.get(file))) {
                throw new ModelLoadException("Model version " + dir + " does not match its " + COMMITTED + ": "
                        + file + " should have " + size + " bytes, found " + (found.containsKey(file)
                        ? found.get(file) + " bytes" : "no such file"));
            }
        });
        return dir;
    }
}
