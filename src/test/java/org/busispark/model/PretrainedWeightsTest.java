package org.busispark.model;

import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.storage.Storage;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Starting from a busi model: every parameter by name, the head only for the same classes, provenance. */
class PretrainedWeightsTest {
    private static final BusiConfig.Train TRAIN = ConfigLoader.defaults().train();

    @TempDir
    Path tmp;

    private static BusiConfig.Model model(List<String> classes) {
        return new BusiConfig.Model("resnet18", TinyModel.INPUT_SIZE, 1, 0.0625, classes);
    }

    /** A saved tiny model whose parameters (running statistics included) are random, unlike a fresh network's. */
    private TrainedModel source(Storage storage, String dir) {
        TinyModel.save(storage, dir, 3, 1);
        TrainedModel m = ModelStore.load(storage, dir, null).model();
        Nd4j.getRandom().setSeed(3);
        m.graph().params().assign(Nd4j.rand(DataType.FLOAT, m.graph().params().shape()).addi(0.5));
        ModelStore.save(storage, dir, m);
        return ModelStore.load(storage, dir, null).model();
    }

    @Test
    void aModelOfTheSameClassesGivesEveryParameterAndTheCardSaysWhichFile() {
        Storage storage = new Storage(new org.apache.hadoop.conf.Configuration());
        String dir = tmp.resolve("source").toString();
        TrainedModel source = source(storage, dir);
        ComputationGraph target = ResNetBuilder.build(model(TinyModel.CLASSES), TRAIN);
        assertNotEquals(source.graph().params(), target.params());

        ModelCard.InitialWeights w = PretrainedWeights.load(storage, dir, target, model(TinyModel.CLASSES));

        assertEquals(source.graph().params(), target.params());
        assertEquals(PretrainedWeights.BUSI, w.format());
        assertEquals(Storage.normalize(dir), w.uri());
        assertEquals(ModelStore.MODEL_FILE, w.file());
        assertEquals(ModelStore.sha256(storage.readBytes(dir + "/" + ModelStore.MODEL_FILE)), w.sha256());
        assertEquals(64, w.sha256().length());
        assertTrue(w.headLoaded());
    }

    @Test
    void aModelOfOtherClassesGivesItsBackboneAndTheFreshHeadStays() {
        Storage storage = new Storage(new org.apache.hadoop.conf.Configuration());
        String dir = tmp.resolve("source").toString();
        TrainedModel source = source(storage, dir);
        BusiConfig.Model twoClasses = model(List.of("benign", "malignant"));
        ComputationGraph target = ResNetBuilder.build(twoClasses, TRAIN);
        INDArray freshHead = target.getLayer(ResNetBuilder.OUTPUT).params().dup();

        ModelCard.InitialWeights w = PretrainedWeights.load(storage, dir + "/" + ModelStore.MODEL_FILE, target,
                twoClasses);

        assertFalse(w.headLoaded());
        assertEquals(freshHead, target.getLayer(ResNetBuilder.OUTPUT).params());
        int compared = 0;
        for (var layer : target.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            if (layer.numParams() > 0 && !name.equals(ResNetBuilder.OUTPUT)) {
                assertEquals(source.graph().getLayer(name).params(), layer.params(), name);
                compared++;
            }
        }
        assertEquals(40, compared, "the stem, 8 blocks of two and 3 projections: a convolution and a batch norm each");
    }

    @Test
    void aModelOfAnotherArchitectureWidthOrChannelsIsRefusedByName() {
        Storage storage = new Storage(new org.apache.hadoop.conf.Configuration());
        String dir = tmp.resolve("source").toString();
        source(storage, dir);
        for (BusiConfig.Model other : List.of(
                new BusiConfig.Model("resnet34", TinyModel.INPUT_SIZE, 1, 0.0625, TinyModel.CLASSES),
                new BusiConfig.Model("resnet18", TinyModel.INPUT_SIZE, 1, 0.125, TinyModel.CLASSES),
                new BusiConfig.Model("resnet18", TinyModel.INPUT_SIZE, 3, 0.0625, TinyModel.CLASSES))) {
            ComputationGraph target = ResNetBuilder.build(other, TRAIN);
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> PretrainedWeights.load(storage, dir, target, other));
            assertTrue(e.getMessage().contains("is a resnet18 of width x0.0625 with 1 input channel(s)")
                    && e.getMessage().contains("asks for a " + other.architecture()), e.getMessage());
        }
        ModelLoadException missing = assertThrows(ModelLoadException.class, () -> PretrainedWeights.load(storage,
                tmp.resolve("nothing").toString(), ResNetBuilder.build(model(TinyModel.CLASSES), TRAIN),
                model(TinyModel.CLASSES)));
        assertTrue(missing.getMessage().startsWith("No model found at"), missing.getMessage());
    }

    /** Models trained before the torchvision conventions keep log10 of the running std; it loads as a variance. */
    @Test
    void aLogStdBatchNormLoadsAsTheVarianceItStandsFor() {
        BusiConfig.Model m = model(TinyModel.CLASSES);
        ComputationGraphConfiguration conf = ComputationGraphConfiguration.fromJson(
                ResNetBuilder.configuration(m, TRAIN, null).toJson().replace("\"useLogStd\" : false", "\"useLogStd\" : true"));
        ComputationGraph legacy = new ComputationGraph(conf);
        legacy.init();
        INDArray logStd = legacy.getLayer("s2b1_a_bn").getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
        logStd.assign(Nd4j.linspace(-0.5, 0.5, logStd.length(), DataType.FLOAT).reshape(logStd.shape()));
        ComputationGraph target = ResNetBuilder.build(m, TRAIN);

        PretrainedWeights.loadBusi(new TrainedModel(legacy, card(m)), "legacy", target, m);

        INDArray var = target.getLayer("s2b1_a_bn").getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
        for (int i = 0; i < var.length(); i++) {
            double std = Math.pow(10, logStd.getDouble(i));
            assertEquals(std * std, var.getDouble(i), 1e-5 * std * std, "channel " + i);
        }
        // Same input, same output: the running variance is what normalises at inference.
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 1, TinyModel.INPUT_SIZE, TinyModel.INPUT_SIZE);
        INDArray a = legacy.feedForward(x, false).get("s2b1_a_bn");
        INDArray b = target.feedForward(x, false).get("s2b1_a_bn");
        assertTrue(a.sub(b).amaxNumber().doubleValue() < 1e-4 * a.amaxNumber().doubleValue());
    }

    private static ModelCard card(BusiConfig.Model m) {
        return new ModelCard(ModelCard.FORMAT_VERSION, "legacy", m.classes(), m.inputSize(), m.channels(),
                new org.busispark.augment.Normalization(0.3, 0.2), m.architecture(), m.widthMultiplier(), 0, 1, TRAIN,
                ConfigLoader.defaults().augment(), null, java.util.Map.of(), "test", "now", null);
    }
}
