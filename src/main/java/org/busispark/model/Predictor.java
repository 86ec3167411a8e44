package org.busispark.model;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.busispark.augment.Normalization;
import org.busispark.augment.Preprocessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Distributed inference: the model zip is broadcast once, each executor restores it once per concurrent task
 * (a ComputationGraph is not thread-safe) and reuses it across partitions; images are scored in minibatches.
 */
public final class Predictor {
    private static final int BATCH = 32;
    /**
     * Idle restored graphs of the model in use, shared by the tasks of one executor JVM. Only the newest
     * broadcast is kept, so a training run that validates every epoch does not pile up old networks.
     */
    private static final Map<Long, ConcurrentLinkedQueue<ComputationGraph>> POOL = new ConcurrentHashMap<>();

    private Predictor() {}

    public static JavaRDD<Prediction> predict(JavaSparkContext jsc, JavaRDD<ImageInput> images, byte[] modelZip,
                                              ModelCard card) {
        return predict(jsc, images, modelZip, new Preprocessor(card.inputSize(), card.channels()), card.normalization());
    }

    /** Skipped inputs are dropped; error inputs come back as error predictions. */
    public static JavaRDD<Prediction> predict(JavaSparkContext jsc, JavaRDD<ImageInput> images, byte[] modelZip,
                                              Preprocessor pre, Normalization norm) {
        Broadcast<byte[]> zip = jsc.broadcast(modelZip);
        return images.mapPartitions(it -> predictPartition(it, zip, pre, norm));
    }

    private static Iterator<Prediction> predictPartition(Iterator<ImageInput> it, Broadcast<byte[]> zip,
                                                         Preprocessor pre, Normalization norm) {
        long id = zip.id();
        ConcurrentLinkedQueue<ComputationGraph> idle = POOL.get(id);
        if (idle == null) {
            // Evicted outside computeIfAbsent: its mapping function must not change other entries of the map.
            POOL.keySet().removeIf(older -> older < id);
            idle = POOL.computeIfAbsent(id, k -> new ConcurrentLinkedQueue<>());
        }
        ComputationGraph graph = idle.poll();
        if (graph == null) {
            graph = TrainedModel.fromZip(zip.value(), false);
        }
        try {
            List<Prediction> out = new ArrayList<>();
            List<ImageInput> batch = new ArrayList<>(BATCH);
            while (it.hasNext()) {
                ImageInput in = it.next();
                if (in.skipped()) {
                    continue;
                }
                if (in.error() != null) {
                    out.add(new Prediction(in.sourcePath(), in.imageId(), in.labelIndex(), null, in.error()));
                    continue;
                }
                batch.add(in);
                if (batch.size() == BATCH) {
                    out.addAll(run(graph, batch, pre, norm));
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                out.addAll(run(graph, batch, pre, norm));
            }
            return out.iterator();
        } finally {
            idle.add(graph);
        }
    }

    static List<Prediction> run(ComputationGraph graph, List<ImageInput> batch, Preprocessor pre, Normalization norm) {
        float[][] inputs = new float[batch.size()][];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = pre.toInput(pre.plain(batch.get(i).image()), norm);
        }
        float[][] probs = output(graph, inputs, pre);
        List<Prediction> out = new ArrayList<>(batch.size());
        for (int i = 0; i < probs.length; i++) {
            ImageInput in = batch.get(i);
            out.add(new Prediction(in.sourcePath(), in.imageId(), in.labelIndex(), probs[i], null));
        }
        return out;
    }

    /** Softmax outputs for preprocessed CHW inputs. */
    public static float[][] output(ComputationGraph graph, float[][] inputs, Preprocessor pre) {
        int n = inputs.length;
        int per = inputs[0].length;
        float[] flat = new float[n * per];
        for (int i = 0; i < n; i++) {
            System.arraycopy(inputs[i], 0, flat, i * per, per);
        }
        try (INDArray features = Nd4j.create(flat, pre.inputShape(n), 'c');
             INDArray out = graph.outputSingle(false, features)) {
            float[][] result = new float[n][];
            for (int i = 0; i < n; i++) {
                result[i] = out.getRow(i).castTo(DataType.FLOAT).toFloatVector();
            }
            return result;
        }
    }
}
