package org.busispark.model;

import org.busispark.augment.Normalization;
import org.busispark.config.BusiConfig;
import org.busispark.model.torch.TorchCheckpoint;
import org.busispark.model.torch.TorchTensor;
import org.busispark.storage.Storage;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights training starts from, loaded into a network that {@link ResNetBuilder} built from the configuration:
 * a torchvision checkpoint (state_dict in torch.save's zip format) or a busi model. Every tensor is placed by name
 * and must fit its place exactly; a missing, extra or mis-shaped one fails the load with its name, so a network is
 * never half loaded. The classifier head is loaded when it predicts the configured classes and is otherwise left
 * as the fresh one the builder made.
 */
public final class PretrainedWeights {
    public static final String TORCHVISION = "torchvision";
    public static final String BUSI = "busi";

    /** ImageNet's per-channel statistics (RGB), which torchvision's pretrained weights were trained with. */
    static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};
    static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};
    private static final String STEM_CONV = "conv1";
    private static final String STEM_BN = "bn1";
    private static final String STEM_WEIGHT = STEM_CONV + ".weight";
    private static final String STEM_MEAN = STEM_BN + ".running_mean";

    private PretrainedWeights() {}

    /** Where a tensor of the source goes: a layer's parameter, and whether it is part of the classifier head. */
    private record Place(String layer, String param, boolean head) {}

    /**
     * Loads the weights at {@code uri} into {@code graph} (a fresh network of {@code model}) and says where they came
     * from. A file is read as a torchvision checkpoint unless it is a busi model's model.zip; a folder (or a model
     * store's model line) as a busi model.
     */
    public static ModelCard.InitialWeights load(Storage storage, String uri, ComputationGraph graph,
                                                BusiConfig.Model model) {
        String u = Storage.normalize(uri);
        if (storage.isFile(u) && !u.endsWith("/" + ModelStore.MODEL_FILE)) {
            byte[] file;
            try {
                file = storage.readBytes(u);
            } catch (java.io.UncheckedIOException e) {
                throw new ModelLoadException("Cannot read the pretrained weights " + uri + ": " + e.getMessage(), e);
            }
            String name = u.substring(u.lastIndexOf('/') + 1);
            boolean head = loadTorchvision(TorchCheckpoint.read(file, name), name, graph, model);
            return new ModelCard.InitialWeights(TORCHVISION, u, name, ModelStore.sha256(file), head);
        }
        ModelStore.LoadedModel source = ModelStore.load(storage, u, null);
        boolean head = loadBusi(source.model(), source.dir(), graph, model);
        return new ModelCard.InitialWeights(BUSI, source.dir(), ModelStore.MODEL_FILE, ModelStore.sha256(source.zip()),
                head);
    }

    /** @return whether the source's head was loaded (it predicts the configured classes) */
    static boolean loadBusi(TrainedModel source, String where, ComputationGraph graph, BusiConfig.Model model) {
        ModelCard card = source.card();
        if (!card.architecture().equals(model.architecture()) || card.widthMultiplier() != model.widthMultiplier()
                || card.channels() != model.channels()) {
            throw new ModelLoadException(String.format("The pretrained model %s is a %s of width x%s with %d input "
                            + "channel(s); busi.model asks for a %s of width x%s with %d: they must match", where,
                    card.architecture(), card.widthMultiplier(), card.channels(), model.architecture(),
                    model.widthMultiplier(), model.channels()));
        }
        boolean head = card.classes().equals(model.classes());
        ComputationGraph from = source.graph();
        List<Map.Entry<INDArray, INDArray>> values = new ArrayList<>(); // assigned once every parameter fits
        for (Layer target : graph.getLayers()) {
            String name = target.conf().getLayer().getLayerName();
            if (target.numParams() == 0 || (!head && name.equals(ResNetBuilder.OUTPUT))) {
                continue;
            }
            if (from.getVertex(name) == null || !from.getVertex(name).hasLayer()) {
                throw new ModelLoadException("The pretrained model " + where + " has no layer " + name);
            }
            Map<String, INDArray> params = from.getLayer(name).paramTable();
            for (Map.Entry<String, INDArray> p : target.paramTable().entrySet()) {
                INDArray value = params.get(p.getKey());
                if (value == null && p.getKey().equals(BatchNormalizationParamInitializer.GLOBAL_VAR)) {
                    // Models trained before the torchvision conventions keep log10 of the running std.
                    INDArray logStd = params.get(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
                    value = logStd == null ? null : Transforms.exp(logStd.mul(2 * Math.log(10)));
                }
                if (value == null || value.length() != p.getValue().length()) {
                    throw new ModelLoadException("The pretrained model " + where + " has "
                            + (value == null ? "no parameter " : "a differently shaped parameter ") + name + "/"
                            + p.getKey() + " (" + (value == null ? "" : Arrays.toString(value.shape()) + " vs ")
                            + Arrays.toString(p.getValue().shape()) + ")");
                }
                values.add(Map.entry(p.getValue(), value.reshape(p.getValue().shape())));
            }
        }
        values.forEach(v -> v.getKey().assign(v.getValue()));
        return head;
    }

    /** @return whether the checkpoint's head was loaded (its fc layer has as many outputs as there are classes) */
    static boolean loadTorchvision(Map<String, TorchTensor> checkpoint, String file, ComputationGraph graph,
                                   BusiConfig.Model model) {
        Map<String, Place> places = torchvisionNames(graph, model.architecture());
        List<String> missing = places.keySet().stream().filter(k -> !checkpoint.containsKey(k)).toList();
        List<String> extra = checkpoint.keySet().stream()
                .filter(k -> !places.containsKey(k) && !k.endsWith(".num_batches_tracked")).toList();
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new ModelLoadException(String.format("The checkpoint %s does not fit busi's %s: %s%s%s", file,
                    model.architecture(), missing.isEmpty() ? "" : "no tensor " + first(missing),
                    missing.isEmpty() || extra.isEmpty() ? "" : "; ",
                    extra.isEmpty() ? "" : "tensor " + first(extra) + " has no place in it"
                            + " (is it a checkpoint of another architecture, or a whole pickled module?)"));
        }
        long[] stem = checkpoint.get(STEM_WEIGHT).shape();
        Map<String, TorchTensor> tensors = model.channels() == 1 && stem.length == 4 && stem[1] == IMAGENET_MEAN.length
                ? grayStem(checkpoint) : checkpoint;
        TorchTensor fc = tensors.get("fc.weight");
        long classes = fc.shape().length == 2 ? fc.shape()[0] : -1;
        boolean head = classes == model.numClasses();
        // Every tensor is checked before the first is assigned, so a failed load leaves the network as built.
        List<Map.Entry<INDArray, INDArray>> values = new ArrayList<>();
        for (Map.Entry<String, Place> e : places.entrySet()) {
            Place place = e.getValue();
            if (place.head() && !head) {
                long[] shape = tensors.get(e.getKey()).shape();
                long features = graph.getLayer(place.layer()).getParam(place.param()).size(0);
                if (e.getKey().equals("fc.weight") && (shape.length != 2 || shape[1] != features)) {
                    throw misShaped(file, e.getKey(), shape, new long[] {classes, features}, place);
                }
                continue; // the fresh head stays: the checkpoint predicts other classes
            }
            INDArray target = graph.getLayer(place.layer()).getParam(place.param());
            values.add(Map.entry(target, tensor(tensors.get(e.getKey()), e.getKey(), file, place, target)));
        }
        values.forEach(v -> v.getKey().assign(v.getValue()));
        return head;
    }

    /** A checkpoint tensor in the shape and layout of its DL4J parameter. */
    private static INDArray tensor(TorchTensor t, String name, String file, Place place, INDArray target) {
        INDArray value = Nd4j.create(t.values(), t.shape(), 'c').castTo(target.dataType());
        long[] want = target.shape();
        if (place.param().equals(DefaultParamInitializer.WEIGHT_KEY) && want.length == 4) {
            // [out, in, kh, kw] in both
            if (!Arrays.equals(value.shape(), want)) {
                throw misShaped(file, name, t.shape(), want, place);
            }
            return value;
        }
        if (place.head() && place.param().equals(DefaultParamInitializer.WEIGHT_KEY)) {
            value = value.transpose(); // torch's Linear is [out, in]; DL4J's dense weights are [in, out]
            if (!Arrays.equals(value.shape(), want)) {
                throw misShaped(file, name, t.shape(), new long[] {want[1], want[0]}, place);
            }
            return value;
        }
        if (t.shape().length != 1 || t.shape()[0] != target.length()) {
            throw misShaped(file, name, t.shape(), new long[] {target.length()}, place);
        }
        return value.reshape(want);
    }

    /**
     * torchvision's RGB stem folded into one input channel: what the network computes on a gray image g fed as
     * three channels, each normalised by its own ImageNet mean m_c and std s_c, from g normalised once by
     * {@link Normalization#IMAGENET} (m, s). Since (g - m_c) / s_c = (s / s_c) x + (m - m_c) / s_c for x = (g - m) / s,
     * the filter is the sum over c of W_c s / s_c, and the constant that the sum of W_c (m - m_c) / s_c adds to each
     * output channel moves into the following batch norm's running mean. Exact wherever the filter does not
     * overlap the zero padding (bench/torchvision-import.sh measures the whole network).
     */
    static Map<String, TorchTensor> grayStem(Map<String, TorchTensor> tensors) {
        TorchTensor w = tensors.get(STEM_WEIGHT);
        TorchTensor mean = tensors.get(STEM_MEAN);
        int out = (int) w.shape()[0];
        int taps = (int) (w.shape()[2] * w.shape()[3]);
        int in = IMAGENET_MEAN.length;
        Normalization gray = Normalization.IMAGENET;
        float[] folded = new float[out * taps];
        float[] shifted = mean.values().clone();
        for (int o = 0; o < out; o++) {
            double constant = 0;
            for (int c = 0; c < in; c++) {
                double scale = gray.std() / IMAGENET_STD[c];
                double offset = (gray.mean() - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
                for (int k = 0; k < taps; k++) {
                    float v = w.values()[(o * in + c) * taps + k];
                    folded[o * taps + k] += (float) (v * scale);
                    constant += v * offset;
                }
            }
            shifted[o] -= (float) constant;
        }
        Map<String, TorchTensor> copy = new LinkedHashMap<>(tensors);
        copy.put(STEM_WEIGHT, new TorchTensor(w.dtype(), new long[] {out, 1, w.shape()[2], w.shape()[3]}, folded));
        copy.put(STEM_MEAN, new TorchTensor(mean.dtype(), mean.shape(), shifted));
        return copy;
    }

    private static ModelLoadException misShaped(String file, String name, long[] shape, long[] want, Place place) {
        return new ModelLoadException(String.format("Tensor %s of the checkpoint %s has shape %s, but %s/%s needs %s"
                        + " (is busi.model's architecture, width-multiplier or channels another than the checkpoint's?)",
                name, file, Arrays.toString(shape), place.layer(), place.param(), Arrays.toString(want)));
    }

    /** torchvision's state_dict names of {@code architecture} and where each goes in ResNetBuilder's graph. */
    static Map<String, Place> torchvisionNames(ComputationGraph graph, String architecture) {
        Map<String, Place> places = new LinkedHashMap<>();
        convBn(places, STEM_CONV, STEM_BN, ResNetBuilder.STEM);
        int[] blocks = ResNetBuilder.blocksPerStage(architecture);
        String[] parts = architecture.equals("resnet50") ? new String[] {"a", "b", "c"} : new String[] {"a", "b"};
        for (int s = 0; s < blocks.length; s++) {
            for (int b = 0; b < blocks[s]; b++) {
                String torch = "layer" + (s + 1) + "." + b + ".";
                String ours = "s" + (s + 1) + "b" + (b + 1) + "_";
                for (int j = 0; j < parts.length; j++) {
                    convBn(places, torch + "conv" + (j + 1), torch + "bn" + (j + 1), ours + parts[j]);
                }
                if (graph.getConfiguration().getVertices().containsKey(ours + "proj_conv")) {
                    convBn(places, torch + "downsample.0", torch + "downsample.1", ours + "proj");
                }
            }
        }
        places.put("fc.weight", new Place(ResNetBuilder.OUTPUT, DefaultParamInitializer.WEIGHT_KEY, true));
        places.put("fc.bias", new Place(ResNetBuilder.OUTPUT, DefaultParamInitializer.BIAS_KEY, true));
        return places;
    }

    private static void convBn(Map<String, Place> places, String conv, String bn, String ours) {
        places.put(conv + ".weight", new Place(ours + "_conv", DefaultParamInitializer.WEIGHT_KEY, false));
        places.put(bn + ".weight", new Place(ours + "_bn", BatchNormalizationParamInitializer.GAMMA, false));
        places.put(bn + ".bias", new Place(ours + "_bn", BatchNormalizationParamInitializer.BETA, false));
        places.put(bn + ".running_mean", new Place(ours + "_bn", BatchNormalizationParamInitializer.GLOBAL_MEAN, false));
        places.put(bn + ".running_var", new Place(ours + "_bn", BatchNormalizationParamInitializer.GLOBAL_VAR, false));
    }

    private static String first(List<String> names) {
        return names.get(0) + (names.size() > 1 ? " (and " + (names.size() - 1) + " more)" : "");
    }
}
