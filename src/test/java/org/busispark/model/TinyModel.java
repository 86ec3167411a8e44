package org.busispark.model;

import org.busispark.augment.Normalization;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.storage.Storage;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A real but tiny model (resnet18, 1x32x32, width 1/16: a few thousand parameters) saved with
 * {@link ModelStore#save} as training saves one, for tests that need a model in seconds rather than a training run.
 */
public final class TinyModel {
    public static final List<String> CLASSES = List.of("benign", "malignant", "normal");
    public static final int INPUT_SIZE = 32;

    private TinyModel() {}

    /** Writes a tiny model to {@code dir} and returns its URI; {@code bestEpoch} tells models apart in tests. */
    public static String save(Storage storage, String dir, int bestEpoch, int cardChannels) {
        return save(storage, dir, bestEpoch, cardChannels, ConfigLoader.defaults().train());
    }

    /** @param training what the card says the model was trained with (e.g. a held-out site) */
    public static String save(Storage storage, String dir, int bestEpoch, int cardChannels, BusiConfig.Train training) {
        BusiConfig defaults = ConfigLoader.defaults();
        BusiConfig.Model model = new BusiConfig.Model("resnet18", INPUT_SIZE, 1, 0.0625, CLASSES);
        var graph = ResNetBuilder.build(model, defaults.train());
        ModelCard card = new ModelCard(ModelCard.FORMAT_VERSION, "busi-resnet18", CLASSES, INPUT_SIZE, cardChannels,
                new Normalization(0.3, 0.2), model.architecture(), model.widthMultiplier(), graph.numParams(), bestEpoch,
                training, defaults.augment(), new ModelCard.TrainingData("file:/none", Map.of(), Map.of(), "0:0",
                        Map.of(), Map.of()),
                Map.of(), "test", Instant.now().toString(), null);
        ModelStore.save(storage, dir, new TrainedModel(graph, card));
        return Storage.normalize(dir);
    }

    public static String save(Storage storage, String dir, int bestEpoch) {
        return save(storage, dir, bestEpoch, 1);
    }

    /** Commits {@code modelDir} (and an evaluation, unless null) as a new version and promotes it unconditionally. */
    public static String publish(Storage storage, String store, String name, String modelDir, String evaluationDir) {
        String version = ModelRegistry.commit(storage, store, name, modelDir, evaluationDir);
        ModelRegistry.decide(storage, store, name, new Promotion(ConfigLoader.defaults().store().promotion(), "test")
                .manual(version, ModelRegistry.latestVersion(storage, store, name).orElse(null), "test"));
        return version;
    }
}
