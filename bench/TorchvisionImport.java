import org.busispark.augment.Normalization;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.model.PretrainedWeights;
import org.busispark.model.ResNetBuilder;
import org.busispark.storage.Storage;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

/**
 * For bench/torchvision-import.sh: imports the checkpoint bench/torchvision_import.py wrote into busi's network
 * (busi.model.pretrained's path) and compares logits with PyTorch's: (a) with three input channels on PyTorch's own
 * inputs (the import itself), (b) with one channel, the RGB stem folded with ImageNet's channel statistics, on the gray images normalised by
 * Normalization.IMAGENET (what `busi train` with recipe-pretrained.conf feeds). Also times inference of both.
 * Usage: java -cp CLASSPATH bench/TorchvisionImport.java DIR ARCH SIZE N
 */
public class TorchvisionImport {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String arch = args[1];
        int size = Integer.parseInt(args[2]);
        int n = Integer.parseInt(args[3]);
        INDArray gray = floats(dir.resolve("gray.f32"), n, 1, size, size);
        INDArray rgb = floats(dir.resolve("inputs_rgb.f32"), n, 3, size, size);
        INDArray torch = floats(dir.resolve("logits_rgb.f32"), n, 1000);
        String checkpoint = dir.resolve("state_dict.pt").toString();
        Normalization imagenet = Normalization.IMAGENET;
        INDArray grayNormalised = gray.sub(imagenet.mean()).divi(imagenet.std());
        report("(a) 3 channels, PyTorch's inputs", load(arch, size, 3, checkpoint), rgb, torch);
        report("(b) 1 channel (RGB stem folded), gray normalised by Normalization.IMAGENET", load(arch, size, 1, checkpoint),
                grayNormalised, torch);
    }

    private static ComputationGraph load(String arch, int size, int channels, String checkpoint) {
        List<String> classes = IntStream.range(0, 1000).mapToObj(i -> "c" + i).toList();
        BusiConfig.Model model = new BusiConfig.Model(arch, size, channels, 1.0, classes, checkpoint);
        ComputationGraph g = ResNetBuilder.build(model, ConfigLoader.defaults().train());
        long start = System.nanoTime();
        PretrainedWeights.load(new Storage(new org.apache.hadoop.conf.Configuration()), checkpoint, g, model);
        System.out.printf("loaded %s into %s (%d channel(s)): %,d parameters in %.2f s%n", checkpoint, arch, channels,
                g.numParams(), (System.nanoTime() - start) / 1e9);
        return g;
    }

    private static void report(String what, ComputationGraph g, INDArray x, INDArray torch) {
        INDArray ours = g.feedForward(x, false).get("avg_pool").mmul(g.getLayer(ResNetBuilder.OUTPUT).getParam("W"))
                .addRowVector(g.getLayer(ResNetBuilder.OUTPUT).getParam("b"));
        double diff = ours.sub(torch).amaxNumber().doubleValue();
        double scale = torch.amaxNumber().doubleValue();
        int agree = 0;
        for (int i = 0; i < x.size(0); i++) {
            agree += ours.getRow(i).argMax().getInt(0) == torch.getRow(i).argMax().getInt(0) ? 1 : 0;
        }
        g.output(false, x); // warm-up
        long start = System.nanoTime();
        int reps = 3;
        for (int r = 0; r < reps; r++) {
            g.output(false, x);
        }
        double ms = (System.nanoTime() - start) / 1e6 / reps / x.size(0);
        System.out.printf("%s: largest logit difference %.3g (largest |logit| %.3g, relative %.2g); same top-1 class "
                + "for %d of %d images; inference %.1f ms/image%n", what, diff, scale, diff / scale, agree, x.size(0), ms);
    }

    private static INDArray floats(Path file, long... shape) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return Nd4j.create(v, shape, 'c');
    }
}
