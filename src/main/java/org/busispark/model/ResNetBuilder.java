package org.busispark.model;

import org.busispark.config.BusiConfig;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.AdaBelief;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ResNet-18/34 (basic blocks) and ResNet-50 (bottleneck blocks) as a DL4J {@link ComputationGraph}, after
 * He et al. 2016: 7×7/2 stem and 3×3/2 max-pool, four stages, then a true global average pool and a softmax
 * classifier. Input size, channels and a width multiplier come from configuration.
 *
 * <p>Conventions are torchvision's, so that its weights load unchanged ({@link PretrainedWeights}): explicit
 * symmetric padding of k/2 (DL4J's "Same" mode pads stride-2 layers at the bottom and right only, which shifts every
 * later feature by a pixel), the stride of a bottleneck on its 3×3 convolution, and batch norms that keep the
 * running variance itself with eps 1e-5 and PyTorch's momentum 0.1 (DL4J's decay 0.9).
 */
public final class ResNetBuilder {
    public static final String INPUT = "input";
    public static final String OUTPUT = "output";
    /** The stem's layers: its convolution, batch norm and ReLU are STEM + "_conv", "_bn" and "_relu". */
    public static final String STEM = "stem";
    static final double BN_EPS = 1e-5;
    static final double BN_DECAY = 0.9;

    private static final int[] BASE_WIDTHS = {64, 128, 256, 512};

    private ResNetBuilder() {}

    public static ComputationGraph build(BusiConfig.Model model, BusiConfig.Train train) {
        return build(model, train, null);
    }

    /** @param classWeights per-class weights of the cross-entropy, or null for equal weights */
    public static ComputationGraph build(BusiConfig.Model model, BusiConfig.Train train, double[] classWeights) {
        ComputationGraph graph = new ComputationGraph(configuration(model, train, classWeights));
        graph.init();
        return graph;
    }

    /** The last residual block's output, before pooling (what class-activation maps are taken from). */
    public static String lastBlock(String architecture) {
        int[] blocks = blocksPerStage(architecture);
        return "s4b" + blocks[3];
    }

    static int[] blocksPerStage(String architecture) {
        return switch (architecture) {
            case "resnet18" -> new int[] {2, 2, 2, 2};
            case "resnet34", "resnet50" -> new int[] {3, 4, 6, 3};
            default -> throw new IllegalArgumentException("Unknown architecture " + architecture);
        };
    }

    public static ComputationGraphConfiguration configuration(BusiConfig.Model model, BusiConfig.Train train,
                                                              double[] classWeights) {
        boolean bottleneck = model.architecture().equals("resnet50");
        int[] blocks = blocksPerStage(model.architecture());
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(train.seed())
                .updater(updater(train, LearningRates.backboneSchedule(train)))
                .weightDecay(train.weightDecay())
                .weightInit(WeightInit.RELU)
                .convolutionMode(ConvolutionMode.Truncate)
                .cacheMode(CacheMode.DEVICE)
                .graphBuilder()
                .addInputs(INPUT)
                .setInputTypes(InputType.convolutional(model.inputSize(), model.inputSize(), model.channels()));

        int stem = width(64, model.widthMultiplier());
        String x = convBn(g, STEM, INPUT, 7, 2, stem, true);
        // Zero padding equals torchvision's -inf here: the pool reads ReLU outputs, which are never negative.
        g.addLayer(STEM + "_pool", new SubsamplingLayer.Builder(PoolingType.MAX)
                .kernelSize(3, 3).stride(2, 2).padding(1, 1).build(), x);
        x = STEM + "_pool";
        int channels = stem;
        for (int s = 0; s < 4; s++) {
            int w = width(BASE_WIDTHS[s], model.widthMultiplier());
            for (int b = 0; b < blocks[s]; b++) {
                int stride = (s > 0 && b == 0) ? 2 : 1;
                String name = "s" + (s + 1) + "b" + (b + 1);
                int out = bottleneck ? 4 * w : w;
                x = bottleneck ? bottleneckBlock(g, name, x, channels, w, stride)
                        : basicBlock(g, name, x, channels, w, stride);
                channels = out;
            }
        }
        g.addLayer("avg_pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), x);
        ILossFunction loss = classWeights == null ? new LossMCXENT()
                : new LossMCXENT(Nd4j.create(classWeights).castTo(DataType.FLOAT));
        g.addLayer(OUTPUT, new OutputLayer.Builder(loss).updater(updater(train, LearningRates.schedule(train)))
                .nOut(model.numClasses()).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(),
                "avg_pool");
        g.setOutputs(OUTPUT);
        return g.build();
    }

    private static String basicBlock(ComputationGraphConfiguration.GraphBuilder g, String name, String in,
                                     int inChannels, int width, int stride) {
        String a = convBn(g, name + "_a", in, 3, stride, width, true);
        String b = convBn(g, name + "_b", a, 3, 1, width, false);
        return residual(g, name, in, b, inChannels, width, stride);
    }

    private static String bottleneckBlock(ComputationGraphConfiguration.GraphBuilder g, String name, String in,
                                          int inChannels, int width, int stride) {
        String a = convBn(g, name + "_a", in, 1, 1, width, true);
        String b = convBn(g, name + "_b", a, 3, stride, width, true);
        String c = convBn(g, name + "_c", b, 1, 1, 4 * width, false);
        return residual(g, name, in, c, inChannels, 4 * width, stride);
    }

    /** Adds the shortcut (projected by a strided 1×1 convolution when the shape changes) and applies ReLU. */
    private static String residual(ComputationGraphConfiguration.GraphBuilder g, String name, String in,
                                   String branch, int inChannels, int outChannels, int stride) {
        String shortcut = in;
        if (stride != 1 || inChannels != outChannels) {
            shortcut = convBn(g, name + "_proj", in, 1, stride, outChannels, false);
        }
        g.addVertex(name + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), branch, shortcut);
        g.addLayer(name, new ActivationLayer.Builder().activation(Activation.RELU).build(), name + "_add");
        return name;
    }

    /** Convolution without bias (batch norm provides it), batch norm, optional ReLU; returns the last name. */
    private static String convBn(ComputationGraphConfiguration.GraphBuilder g, String name, String in,
                                 int kernel, int stride, int nOut, boolean relu) {
        g.addLayer(name + "_conv", new ConvolutionLayer.Builder(kernel, kernel).stride(stride, stride)
                .padding(kernel / 2, kernel / 2).nOut(nOut).hasBias(false).activation(Activation.IDENTITY).build(), in);
        g.addLayer(name + "_bn", new BatchNormalization.Builder().useLogStd(false).eps(BN_EPS).decay(BN_DECAY).build(),
                name + "_conv");
        if (!relu) {
            return name + "_bn";
        }
        g.addLayer(name + "_relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), name + "_bn");
        return name + "_relu";
    }

    static int width(int base, double multiplier) {
        return Math.max(1, (int) Math.round(base * multiplier));
    }

    static IUpdater updater(BusiConfig.Train train, ISchedule schedule) {
        return switch (train.optimizer()) {
            case "adabelief" -> new AdaBelief.Builder().learningRateSchedule(schedule).build();
            case "adam" -> new Adam(schedule);
            default -> throw new IllegalArgumentException("Unknown optimizer " + train.optimizer());
        };
    }
}
