package org.busispark.train;

import org.busispark.cli.BusiCliTest;
import org.busispark.model.ModelCard;
import org.busispark.model.ModelStore;
import org.busispark.model.PretrainedWeights;
import org.busispark.model.ResNetBuilder;
import org.busispark.model.TrainedModel;
import org.busispark.storage.Json;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-tuning a busi model with dl4j-spark's parameter averaging on local[2] (two workers): the frozen backbone's
 * weights come back from the workers exactly as loaded, and the model card names the starting file.
 */
class FineTuneTest {
    @TempDir
    static Path tmp;
    static Path data;
    static Path source;

    @BeforeAll
    static void ingestAndTrainASource() {
        data = tmp.resolve("dataset");
        BusiCliTest.Result r = BusiCliTest.run("ingest", "--conf", "conf/local.conf", "--input", "data/sample/busi",
                "--output", data.toString());
        assertEquals(0, r.code(), r.err());
        source = tmp.resolve("source");
        r = BusiCliTest.run("train", "--conf", "conf/local.conf", "-Dbusi.train.epochs=1", "--data", data.toString(),
                "--output", source.toString());
        assertEquals(0, r.code(), r.err());
    }

    private static ComputationGraph checkpoint(Path out, int epoch) throws IOException {
        return TrainedModel.fromZip(Files.readAllBytes(out.resolve(Checkpoints.DIR).resolve(Checkpoints.name(epoch))
                .resolve(Checkpoints.MODEL)), false);
    }

    @Test
    void aFrozenBackboneStaysAsLoadedUnderParameterAveragingThenLearns() throws Exception {
        Path out = tmp.resolve("tuned");
        BusiCliTest.Result r = BusiCliTest.run("train", "--conf", "conf/local.conf", "--data", data.toString(),
                "--output", out.toString(), "-Dbusi.train.epochs=2", "-Dbusi.train.checkpoint-every=1",
                "-Dbusi.train.freeze-epochs=1", "-Dbusi.train.backbone-learning-rate-factor=0.5",
                "-Dbusi.model.pretrained=" + source);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("starting from the busi weights"), r.out());
        assertTrue(r.out().contains("epoch 1/2  lr 5.00e-04 (backbone frozen)")
                && r.out().contains("epoch 2/2  lr 1.00e-03 (backbone 5.00e-04)"), r.out());
        ComputationGraph start = ModelStore.load(new org.busispark.storage.Storage(new org.apache.hadoop.conf.Configuration()),
                source.toString(), null).model().graph();
        ComputationGraph frozen = checkpoint(out, 1);
        ComputationGraph thawed = checkpoint(out, 2);

        int layers = 0;
        int statisticsMoved = 0;
        for (Layer layer : start.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            if (layer.numParams() == 0) {
                continue;
            }
            Map<String, org.nd4j.linalg.api.ndarray.INDArray> before = layer.paramTable();
            Map<String, org.nd4j.linalg.api.ndarray.INDArray> after1 = frozen.getLayer(name).paramTable();
            if (name.equals(ResNetBuilder.OUTPUT)) {
                double moved = before.get("W").sub(after1.get("W")).amaxNumber().doubleValue();
                assertTrue(moved > 1e-3 * before.get("W").amaxNumber().doubleValue(),
                        "the head learns while the backbone is frozen: " + moved);
                continue;
            }
            layers++;
            for (String key : before.keySet()) {
                boolean statistic = key.equals(BatchNormalizationParamInitializer.GLOBAL_MEAN)
                        || key.equals(BatchNormalizationParamInitializer.GLOBAL_VAR);
                if (statistic) {
                    statisticsMoved += before.get(key).equals(after1.get(key)) ? 0 : 1;
                } else {
                    // Averaging n equal copies (their sum over n) may round by an ulp where n is not a power of 2;
                    // a learning layer moves by the rate times its step, a thousand times more.
                    double scale = before.get(key).amaxNumber().doubleValue();
                    double moved = before.get(key).sub(after1.get(key)).amaxNumber().doubleValue();
                    assertTrue(moved <= 1e-6 * scale, name + "/" + key + " frozen in epoch 1 moved by " + moved);
                }
            }
        }
        assertEquals(40, layers);
        assertTrue(statisticsMoved > 0, "batch-norm statistics follow the new images, as in PyTorch's train mode");
        assertNotEquals(start.getLayer("s2b1_a_conv").getParam("W"), thawed.getLayer("s2b1_a_conv").getParam("W"),
                "the backbone learns once thawed");

        ModelCard card = Json.read(Files.readString(out.resolve(ModelStore.MODEL_DIR).resolve(ModelStore.CARD_FILE)),
                ModelCard.class);
        ModelCard.InitialWeights w = card.initialWeights();
        assertEquals(PretrainedWeights.BUSI, w.format());
        assertEquals("file:" + source.resolve(ModelStore.MODEL_DIR), w.uri());
        byte[] zip = Files.readAllBytes(source.resolve(ModelStore.MODEL_DIR).resolve(ModelStore.MODEL_FILE));
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(zip)), w.sha256());
        assertTrue(w.headLoaded());
        assertEquals(1, card.training().freezeEpochs());
        assertEquals(0.5, card.training().backboneLearningRateFactor());
    }

    /** PyTorch's checkpoint (the resnet18-w4 fixture) as the start of `busi train`, with ImageNet's statistics. */
    @Test
    void aTorchvisionCheckpointStartsTrainingAndTheCardSaysSo() throws Exception {
        Path checkpoint = Path.of("src/test/resources/torch/resnet18-w4/state_dict.pt");
        Path out = tmp.resolve("from-torch");
        BusiCliTest.Result r = BusiCliTest.run("train", "--conf", "conf/local.conf", "--data", data.toString(),
                "--output", out.toString(), "-Dbusi.train.epochs=1", "-Dbusi.model.input-size=48",
                "-Dbusi.model.width-multiplier=0.0625", "-Dbusi.augment.input-normalization=imagenet",
                "-Dbusi.model.pretrained=" + checkpoint.toAbsolutePath());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("starting from the torchvision weights") && r.out().contains("head included"),
                r.out());
        assertTrue(r.out().contains("inputs normalised by ImageNet's"), r.out());
        ModelCard card = Json.read(Files.readString(out.resolve(ModelStore.MODEL_DIR).resolve(ModelStore.CARD_FILE)),
                ModelCard.class);
        assertEquals(PretrainedWeights.TORCHVISION, card.initialWeights().format());
        assertEquals("state_dict.pt", card.initialWeights().file());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(checkpoint))), card.initialWeights().sha256());
        assertEquals(org.busispark.augment.Normalization.IMAGENET, card.normalization(),
                "evaluate and score normalise as the card says");
    }

    @Test
    void weightsThatCannotBeLoadedStopTrainingWithExitTwo() {
        BusiCliTest.Result r = BusiCliTest.run("train", "--conf", "conf/local.conf", "--data", data.toString(),
                "--output", tmp.resolve("wrong").toString(), "-Dbusi.model.pretrained=" + source,
                "-Dbusi.model.width-multiplier=0.5");
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("is a resnet18 of width x0.25") && r.err().contains("width x0.5"), r.err());
        assertTrue(!Files.exists(tmp.resolve("wrong").resolve(ModelStore.MODEL_DIR)), "no model written");

        r = BusiCliTest.run("train", "--conf", "conf/local.conf", "--data", data.toString(),
                "--output", tmp.resolve("wrong-torch").toString(), "-Dbusi.model.input-size=48",
                "-Dbusi.model.pretrained=src/test/resources/torch/resnet18-w4/state_dict.pt");
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("Tensor conv1.weight of the checkpoint state_dict.pt has shape [4, 1, 7, 7], but "
                + "stem_conv/W needs [16, 1, 7, 7]"), r.err());
    }
}
