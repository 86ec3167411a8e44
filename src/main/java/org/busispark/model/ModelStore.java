package org.busispark.model;

import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Writes and reads model folders: {@code model.zip} (DL4J ModelSerializer, with updater state) and
 * {@code model-card.json}. A folder is written beside its target and renamed into place, so a reader never
 * sees a model without its card. Loading checks the zip against the card.
 */
public final class ModelStore {
    public static final String MODEL_DIR = "model";
    public static final String MODEL_FILE = "model.zip";
    public static final String CARD_FILE = "model-card.json";

    private ModelStore() {}

    public static void save(Storage storage, String modelDir, TrainedModel model) {
        String staging = storage.stagingFor(modelDir);
        storage.writeBytes(Storage.child(staging, MODEL_FILE), model.toZip(true));
        storage.writeText(Storage.child(staging, CARD_FILE), Json.write(model.card()));
        storage.commitFolder(staging, modelDir);
    }

    /**
     * Accepts a model folder, a training output holding {@code model/}, the model.zip itself, or a model store's
     * {@code <store>/models/<name>} (its latest version) or version folder ({@link ModelRegistry}).
     */
    public static String resolveDir(Storage storage, String uri) {
        String u = Storage.normalize(uri);
        if (u.endsWith(".zip")) {
            u = u.substring(0, u.lastIndexOf('/'));
        }
        String version = ModelRegistry.resolve(storage, u);
        if (version != null) {
            return version;
        }
        if (storage.exists(Storage.child(u, MODEL_FILE))) {
            return u;
        }
        if (storage.exists(Storage.child(Storage.child(u, MODEL_DIR), MODEL_FILE))) {
            return Storage.child(u, MODEL_DIR);
        }
        throw new ModelLoadException("No model found at " + uri + ": expected " + MODEL_FILE + " and " + CARD_FILE
                + " in that folder or in its '" + MODEL_DIR + "/' subfolder, or a model store's <store>/"
                + ModelRegistry.MODELS_DIR + "/<name> with a '" + ModelRegistry.LATEST + "' file");
    }

    public static ModelCard readCard(Storage storage, String dir) {
        String cardUri = Storage.child(dir, CARD_FILE);
        if (!storage.exists(cardUri)) {
            throw new ModelLoadException("Model folder " + dir + " has no " + CARD_FILE);
        }
        try {
            return Json.read(storage.readText(cardUri), ModelCard.class);
        } catch (RuntimeException e) {
            throw new ModelLoadException(CARD_FILE + " in " + dir + " is not a valid model card: " + e.getMessage(), e);
        }
    }

    /** The zip's bytes after checking them against the card; executors restore the graph from these. */
    public static LoadedModel load(Storage storage, String uri, List<String> expectedClasses) {
        String dir = resolveDir(storage, uri);
        ModelCard card = readCard(storage, dir);
        if (expectedClasses != null && !card.classes().equals(expectedClasses)) {
            throw new ModelLoadException("Model at " + dir + " predicts classes " + card.classes()
                    + " but the configuration expects " + expectedClasses);
        }
        byte[] zip;
        try {
            zip = storage.readBytes(Storage.child(dir, MODEL_FILE));
        } catch (java.io.UncheckedIOException e) {
            throw new ModelLoadException("Cannot read " + MODEL_FILE + " in " + dir + ": " + e.getMessage(), e);
        }
        ComputationGraph graph = TrainedModel.fromZip(zip, false);
        check(graph, card, dir);
        return new LoadedModel(dir, zip, new TrainedModel(graph, card));
    }

    private static void check(ComputationGraph graph, ModelCard card, String dir) {
        var outputs = graph.getOutputLayer(0).conf().getLayer();
        long nOut = outputs instanceof BaseOutputLayer o ? o.getNOut() : -1;
        if (nOut != card.classes().size()) {
            throw new ModelLoadException("Model at " + dir + " has " + nOut + " outputs but its card lists "
                    + card.classes().size() + " classes " + card.classes());
        }
        long[] shape = {1, card.channels(), card.inputSize(), card.inputSize()};
        try (var probe = org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, shape)) {
            graph.outputSingle(false, probe).close();
        } catch (RuntimeException e) {
            throw new ModelLoadException("Model at " + dir + " does not accept the card's input "
                    + card.channels() + "x" + card.inputSize() + "x" + card.inputSize() + ": " + e.getMessage(), e);
        }
    }

    /** SHA-256 of a file's bytes, as lowercase hex. */
    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A checked model: where it came from, its zip bytes (for broadcasting) and the restored model. */
    public record LoadedModel(String dir, byte[] zip, TrainedModel model) {
        /** A model store's name for one of its versions; otherwise the card's name, or else the folder's. */
        public String name() {
            if (ModelRegistry.isVersion(dir)) {
                return lastSegment(dir.substring(0, dir.lastIndexOf('/')));
            }
            String card = model.card().name();
            return card == null || card.isBlank() ? lastSegment(dir) : card;
        }

        /**
         * A model store's version; otherwise {@code sha256-} and 12 hex digits of model.zip's SHA-256, so the same
         * model file always has the same version wherever it lies (the prefix keeps Spark's partition discovery
         * from reading an all-digit hash as a number).
         */
        public String version() {
            if (ModelRegistry.isVersion(dir)) {
                return lastSegment(dir);
            }
            return "sha256-" + sha256(zip).substring(0, 12);
        }

        private static String lastSegment(String uri) {
            return uri.substring(uri.lastIndexOf('/') + 1);
        }
    }
}
