package org.busispark.model;

import org.apache.hadoop.conf.Configuration;
import org.busispark.augment.Normalization;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Saving a model and loading it back, and every way loading must refuse a model it cannot trust. */
class ModelLoadingTest {
    private static final List<String> CLASSES = List.of("benign", "malignant", "normal");
    private final Storage storage = new Storage(new Configuration());
    @TempDir
    Path tmp;
    private String dir;
    private TrainedModel model;

    @BeforeEach
    void saveTinyModel() {
        BusiConfig defaults = ConfigLoader.defaults();
        BusiConfig.Model m = new BusiConfig.Model("resnet18", 32, 1, 0.0625, CLASSES);
        var graph = ResNetBuilder.build(m, defaults.train());
        ModelCard card = new ModelCard(ModelCard.FORMAT_VERSION, "tiny", CLASSES, 32, 1, new Normalization(0.3, 0.2),
                "resnet18", 0.0625, graph.numParams(), 1, defaults.train(), defaults.augment(),
                new ModelCard.TrainingData("file:/nowhere", Map.of(), Map.of(), "0:0", Map.of(), Map.of()), Map.of(), "test", "now", null);
        model = new TrainedModel(graph, card);
        dir = Storage.child(tmp.toUri().toString(), "out/model");
        ModelStore.save(storage, dir, model);
    }

    @Test
    void roundTripKeepsParametersAndCard() {
        for (String uri : new String[] {dir, Storage.child(tmp.toUri().toString(), "out"), dir + "/model.zip"}) {
            ModelStore.LoadedModel loaded = ModelStore.load(storage, uri, CLASSES);
            assertEquals(dir, loaded.dir());
            assertArrayEquals(model.graph().params().toFloatVector(), loaded.model().graph().params().toFloatVector());
            assertEquals(model.card(), loaded.model().card());
        }
    }

    @Test
    void aDifferentClassListIsRefused() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> ModelStore.load(storage, dir, List.of("benign", "malignant")));
        assertTrue(e.getMessage().contains("[benign, malignant, normal]"), e.getMessage());
    }

    @Test
    void aCorruptZipIsRefused() throws Exception {
        Path zip = Path.of(java.net.URI.create(dir + "/model.zip"));
        byte[] bytes = Files.readAllBytes(zip);
        Files.write(zip, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        // Hadoop's local checksums notice first...
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelStore.load(storage, dir, CLASSES));
        assertTrue(e.getMessage().contains("Cannot read model.zip"), e.getMessage());
        // ...and without them (object stores keep none), the zip itself is found unreadable.
        Files.delete(zip.resolveSibling(".model.zip.crc"));
        e = assertThrows(ModelLoadException.class, () -> ModelStore.load(storage, dir, CLASSES));
        assertTrue(e.getMessage().contains("not a readable DL4J ComputationGraph"), e.getMessage());
    }

    @Test
    void aCardThatDisagreesWithTheNetworkIsRefused() {
        ModelCard c = model.card();
        ModelCard wrongClasses = new ModelCard(c.formatVersion(), c.name(), List.of("a", "b", "c", "d"), c.inputSize(),
                c.channels(), c.normalization(), c.architecture(), c.widthMultiplier(), c.parameters(), c.bestEpoch(),
                c.training(), c.augmentation(), c.trainingData(), c.validationMetrics(), c.codeVersion(), c.createdAt(), null);
        storage.writeText(dir + "/" + ModelStore.CARD_FILE, Json.write(wrongClasses));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelStore.load(storage, dir, null));
        assertTrue(e.getMessage().contains("has 3 outputs but its card lists 4 classes"), e.getMessage());

        ModelCard wrongChannels = new ModelCard(c.formatVersion(), c.name(), c.classes(), c.inputSize(), 3,
                c.normalization(), c.architecture(), c.widthMultiplier(), c.parameters(), c.bestEpoch(), c.training(),
                c.augmentation(), c.trainingData(), c.validationMetrics(), c.codeVersion(), c.createdAt(), null);
        storage.writeText(dir + "/" + ModelStore.CARD_FILE, Json.write(wrongChannels));
        e = assertThrows(ModelLoadException.class, () -> ModelStore.load(storage, dir, null));
        assertTrue(e.getMessage().contains("does not accept the card's input 3x32x32"), e.getMessage());
    }

    @Test
    void missingModelOrCardIsExplained() throws Exception {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> ModelStore.load(storage, tmp.resolve("nothing").toString(), CLASSES));
        assertTrue(e.getMessage().startsWith("No model found at"), e.getMessage());
        Files.delete(Path.of(java.net.URI.create(dir + "/" + ModelStore.CARD_FILE)));
        e = assertThrows(ModelLoadException.class, () -> ModelStore.load(storage, dir, CLASSES));
        assertTrue(e.getMessage().contains("has no model-card.json"), e.getMessage());
    }
}
