package org.busispark.model;

import org.busispark.augment.Normalization;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.model.torch.TorchCheckpoint;
import org.busispark.model.torch.TorchTensor;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * torchvision's ResNets, saved by PyTorch (scripts/torch/make_resnet_fixture.py: torchvision's module names at a
 * reduced width, random batch-norm statistics, 48-pixel inputs so that stride-2 layers meet odd sizes), imported
 * into ResNetBuilder's graph reproduce PyTorch's logits.
 */
class TorchvisionImportTest {
    private static final Path FIXTURES = Path.of("src/test/resources/torch");
    private static final BusiConfig.Train TRAIN = ConfigLoader.defaults().train();

    private record Meta(String arch, int width, int inChannels, int inputSize, int classes, int n, long seed,
                        String torch, String torchvision) {}

    private record Fixture(Meta meta, Map<String, TorchTensor> tensors, INDArray inputs, INDArray logits) {
        BusiConfig.Model model(int channels, int classes) {
            List<String> names = java.util.stream.IntStream.range(0, classes).mapToObj(i -> "c" + i).toList();
            return new BusiConfig.Model(meta.arch(), meta.inputSize(), channels, meta.width() / 64.0, names);
        }
    }

    private static Fixture fixture(String name) throws IOException {
        Path dir = FIXTURES.resolve(name);
        Meta meta = Json.read(Files.readString(dir.resolve("meta.json")), Meta.class);
        byte[] file = Files.readAllBytes(dir.resolve("state_dict.pt"));
        return new Fixture(meta, TorchCheckpoint.read(file, "state_dict.pt"),
                floats(dir.resolve("inputs.f32"), meta.n(), meta.inChannels(), meta.inputSize(), meta.inputSize()),
                floats(dir.resolve("logits.f32"), meta.n(), meta.classes()));
    }

    private static INDArray floats(Path file, long... shape) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return Nd4j.create(v, shape, 'c');
    }

    /** The logits: the head's affine map of the pooled features (the graph's output is their softmax). */
    static INDArray logits(ComputationGraph g, INDArray x) {
        INDArray features = g.feedForward(x, false).get("avg_pool");
        return features.mmul(g.getLayer(ResNetBuilder.OUTPUT).getParam("W"))
                .addRowVector(g.getLayer(ResNetBuilder.OUTPUT).getParam("b"));
    }

    private static ComputationGraph imported(Fixture f, BusiConfig.Model model) {
        ComputationGraph g = ResNetBuilder.build(model, TRAIN);
        PretrainedWeights.loadTorchvision(f.tensors(), "state_dict.pt", g, model);
        return g;
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18-w4", "resnet18-w4-rgb", "resnet50-w2"})
    void theImportedNetworkReproducesPyTorchsLogits(String name) throws IOException {
        Fixture f = fixture(name);
        ComputationGraph g = imported(f, f.model(f.meta().inChannels(), f.meta().classes()));
        INDArray ours = logits(g, f.inputs());
        double scale = f.logits().amaxNumber().doubleValue();
        assertTrue(scale > 0.1, "logits worth comparing: " + f.logits());
        double diff = ours.sub(f.logits()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-4, name + ": largest logit difference " + diff + "\nours " + ours + "\ntorch " + f.logits());
    }

    /**
     * A grayscale network from an RGB checkpoint computes, on a gray image normalised by ImageNet's channel means,
     * what the RGB network computes on that image fed as three channels, each normalised by its own statistics:
     * exactly wherever the stem's filter does not reach into the zero padding.
     */
    @Test
    void aGrayscaleNetworkFoldsTheRgbStemWithImageNetsChannelStatistics() throws IOException {
        Fixture f = fixture("resnet18-w4-rgb");
        ComputationGraph rgb = imported(f, f.model(3, 3));
        ComputationGraph gray = imported(f, f.model(1, 3));
        assertEquals(1, gray.getLayer(ResNetBuilder.STEM + "_conv").getParam("W").size(1));
        int size = f.meta().inputSize();
        Nd4j.getRandom().setSeed(5);
        INDArray g = Nd4j.rand(DataType.FLOAT, 2, 1, size, size);
        INDArray[] channels = new INDArray[3];
        for (int c = 0; c < 3; c++) {
            channels[c] = g.sub(PretrainedWeights.IMAGENET_MEAN[c]).divi(PretrainedWeights.IMAGENET_STD[c]);
        }
        INDArray x = g.sub(Normalization.IMAGENET.mean()).divi(Normalization.IMAGENET.std());
        String bn = ResNetBuilder.STEM + "_bn";
        INDArray a = rgb.feedForward(Nd4j.concat(1, channels), false).get(bn);
        INDArray b = gray.feedForward(x, false).get(bn);
        // Output i of the 7x7/2 stem (padding 3) reads input rows 2i-3..2i+3.
        var interior = NDArrayIndex.interval(2, (size - 4) / 2 + 1);
        INDArray ai = a.get(NDArrayIndex.all(), NDArrayIndex.all(), interior, interior);
        INDArray bi = b.get(NDArrayIndex.all(), NDArrayIndex.all(), interior, interior);
        double scale = ai.amaxNumber().doubleValue();
        assertTrue(ai.sub(bi).amaxNumber().doubleValue() < 1e-4 * scale, "interior differs: " + ai.sub(bi).amaxNumber());
        assertTrue(a.sub(b).amaxNumber().doubleValue() > 1e-3 * scale, "the border sees other padding");
    }

    @Test
    void aCheckpointOfOtherClassesGivesItsBackboneAndTheFreshHeadStays() throws IOException {
        Fixture f = fixture("resnet18-w4");
        BusiConfig.Model two = f.model(1, 2);
        ComputationGraph g = ResNetBuilder.build(two, TRAIN);
        INDArray freshHead = g.getLayer(ResNetBuilder.OUTPUT).params().dup();
        assertFalse(PretrainedWeights.loadTorchvision(f.tensors(), "state_dict.pt", g, two));
        assertEquals(freshHead, g.getLayer(ResNetBuilder.OUTPUT).params());
        ComputationGraph three = imported(f, f.model(1, 3));
        INDArray x = f.inputs();
        assertEquals(three.feedForward(x, false).get("avg_pool"), g.feedForward(x, false).get("avg_pool"),
                "the same features");
    }

    @Test
    void aMissingExtraOrMisShapedTensorIsNamedAndNothingIsHalfLoaded() throws IOException {
        Fixture f = fixture("resnet18-w4");
        BusiConfig.Model model = f.model(1, 3);

        Map<String, TorchTensor> missing = new LinkedHashMap<>(f.tensors());
        missing.remove("layer3.1.bn2.running_var");
        assertMessage(missing, model, "does not fit busi's resnet18: no tensor layer3.1.bn2.running_var");

        Map<String, TorchTensor> extra = new LinkedHashMap<>(f.tensors());
        extra.put("layer5.0.conv1.weight", f.tensors().get("layer4.0.conv1.weight"));
        assertMessage(extra, model, "tensor layer5.0.conv1.weight has no place in it");

        Map<String, TorchTensor> wrong = new LinkedHashMap<>(f.tensors());
        TorchTensor t = f.tensors().get("layer2.0.downsample.1.running_mean");
        wrong.put("layer2.0.downsample.1.running_mean", new TorchTensor(t.dtype(), new long[] {t.numel() - 1},
                java.util.Arrays.copyOf(t.values(), (int) t.numel() - 1)));
        assertMessage(wrong, model, "Tensor layer2.0.downsample.1.running_mean of the checkpoint state_dict.pt has "
                + "shape [7], but s2b1_proj_bn/mean needs [8]");

        assertMessage(f.tensors(), new BusiConfig.Model("resnet18", 48, 1, 0.125, model.classes()),
                "Tensor conv1.weight of the checkpoint state_dict.pt has shape [4, 1, 7, 7], but stem_conv/W needs "
                        + "[8, 1, 7, 7]");
        assertMessage(f.tensors(), new BusiConfig.Model("resnet34", 48, 1, 0.0625, model.classes()),
                "no tensor layer1.2.conv1.weight");
        assertMessage(fixture("resnet50-w2").tensors(), new BusiConfig.Model("resnet18", 48, 1, 0.03125,
                model.classes()), "tensor layer1.0.conv3.weight (and 164 more) has no place in it");
    }

    private static void assertMessage(Map<String, TorchTensor> tensors, BusiConfig.Model model, String expected) {
        ComputationGraph g = ResNetBuilder.build(model, TRAIN);
        INDArray before = g.params().dup();
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> PretrainedWeights.loadTorchvision(tensors, "state_dict.pt", g, model));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertEquals(before, g.params(), "every tensor is checked before anything is loaded");
    }

    @Test
    void theCardNamesTheCheckpointAndItsSha256() throws IOException {
        Path file = FIXTURES.resolve("resnet18-w4/state_dict.pt");
        Fixture f = fixture("resnet18-w4");
        BusiConfig.Model model = f.model(1, 3);
        ModelCard.InitialWeights w = PretrainedWeights.load(new Storage(new org.apache.hadoop.conf.Configuration()),
                file.toString(), ResNetBuilder.build(model, TRAIN), model);
        assertEquals(PretrainedWeights.TORCHVISION, w.format());
        assertEquals("state_dict.pt", w.file());
        assertEquals(Storage.normalize(file.toString()), w.uri());
        assertEquals(ModelStore.sha256(Files.readAllBytes(file)), w.sha256());
        assertTrue(w.headLoaded());
    }

    @Test
    void aFileThatIsNotACheckpointIsAClearError() throws IOException {
        Path notZip = Files.createTempFile("weights", ".pth");
        Files.writeString(notZip, "not a checkpoint");
        BusiConfig.Model model = new BusiConfig.Model("resnet18", 48, 1, 0.0625, List.of("a", "b"));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> PretrainedWeights.load(
                new Storage(new org.apache.hadoop.conf.Configuration()), notZip.toString(),
                ResNetBuilder.build(model, TRAIN), model));
        assertTrue(e.getMessage().contains(notZip.getFileName().toString()), e.getMessage());
        Files.delete(notZip);
    }
}
