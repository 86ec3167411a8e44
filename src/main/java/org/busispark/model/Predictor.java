package org.busispark.model;

import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.busispark.model.onednn.OneDnnLayers;
import org.busispark.augment.Normalization;
import org.busispark.augment.Preprocessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Distributed inference: each JVM holds a model's network once (the driver's own with a local master; restored
 * once per executor from a broadcast zip on a cluster) and gives every concurrent task a network of its own (a
 * ComputationGraph is not thread-safe) over the same weights, reused across partitions; images are scored in
 * minibatches.
 */
public final class Predictor {
    public static final int BATCH = 32;
    /**
     * The networks of the broadcast model in use in this executor JVM, shared by its tasks. Only the newest
     * broadcast is kept, so a training run that validates every epoch does not pile up old networks.
     */
    private static final Map<Long, Pool> POOLS = new ConcurrentHashMap<>();
    /** With a local master: the networks of every model shared and not yet closed in this (the driver's) JVM. */
    private static final Map<Long, Pool> LOCAL = new ConcurrentHashMap<>();
    private static final AtomicLong LOCAL_IDS = new AtomicLong();

    private Predictor() {}

    /**
     * One model's network for inference (batch norms folded, channels-last), never run itself, and the idle
     * copies that tasks run.
     */
    private static final class Pool {
        private final ConcurrentLinkedQueue<ComputationGraph> idle = new ConcurrentLinkedQueue<>();
        private final SparkEnv env;
        private ComputationGraph template;

        Pool(SparkEnv env) {
            this.env = env;
        }

        /** An idle copy, or a new one: copying a restored network takes a fraction of restoring the zip. */
        ComputationGraph take(SharedModel model) {
            ComputationGraph graph = idle.poll();
            if (graph != null) {
                return graph;
            }
            synchronized (this) {
                if (template == null) {
                    template = InferenceGraph.of(TrainedModel.fromZip(model.zip.value(), false));
                }
                ComputationGraph copy = copyOf(template);
                OneDnnLayers.installForInference(copy); // about 1.1x DL4J's own path (docs/benchmarks.md)
                return copy;
            }
        }
    }

    /**
     * A model that the tasks of a job predict with ({@link #withModel}); close it when the job is done. With a
     * local master the tasks run in the driver's JVM and copy the network the driver already holds: nothing is
     * serialised or broadcast. Otherwise the model's zip is broadcast, and each executor restores it once.
     */
    public static final class SharedModel implements Serializable, AutoCloseable {
        private final long id;
        private final Broadcast<byte[]> zip;

        private SharedModel(long id, Broadcast<byte[]> zip) {
            this.id = id;
            this.zip = zip;
        }

        /** The broadcast's id, or a number unique in the driver's JVM with a local master. */
        long id() {
            return id;
        }

        /** The networks for the tasks of this JVM. */
        private Pool networks() {
            if (zip != null) {
                return pool(zip.id());
            }
            Pool pool = LOCAL.get(id);
            if (pool == null) {
                throw new IllegalStateException("Model " + id + " was used after it was closed");
            }
            return pool;
        }

        @Override
        public void close() {
            if (zip == null) {
                LOCAL.remove(id);
            } else {
                zip.destroy(false);
            }
        }
    }

    /**
     * Shares {@code network} with the tasks of this context; {@code zip} (the network's model zip) is made only
     * when it has to be broadcast.
     */
    public static SharedModel share(JavaSparkContext jsc, ComputationGraph network, Supplier<byte[]> zip) {
        if (!jsc.isLocal()) {
            return broadcast(jsc, zip.get());
        }
        Pool pool = new Pool(SparkEnv.get());
        pool.template = InferenceGraph.of(network);
        long id = LOCAL_IDS.incrementAndGet();
        LOCAL.put(id, pool);
        return new SharedModel(id, null);
    }

    /** Broadcasts a model's zip for the executors to restore (what {@link #share} does on a cluster). */
    static SharedModel broadcast(JavaSparkContext jsc, byte[] zip) {
        Broadcast<byte[]> b = jsc.broadcast(zip);
        return new SharedModel(b.id(), b);
    }

    /**
     * A network for inference on its own thread that shares {@code graph}'s parameters (inference only reads
     * them): concurrent tasks keep one copy of the weights in memory and in the shared cache, not one each.
     */
    static ComputationGraph copyOf(ComputationGraph graph) {
        ComputationGraph copy = new ComputationGraph(graph.getConfiguration().clone());
        copy.init(graph.params(), false);
        return copy;
    }

    /**
     * The pool of broadcast {@code id} in this JVM's current Spark environment. Broadcast ids restart with every
     * SparkContext, so a JVM that ran an earlier one (a test suite, an executor reused by a new application) may
     * hold a pool under the same id holding another model: pools of another environment are replaced.
     */
    private static Pool pool(long id) {
        SparkEnv env = SparkEnv.get();
        Pool pool = POOLS.get(id);
        if (pool == null || pool.env != env) {
            // Evicted outside compute: its mapping function must not change other entries of the map.
            POOLS.entrySet().removeIf(e -> e.getKey() < id || e.getValue().env != env);
            pool = POOLS.compute(id, (k, old) -> old != null && old.env == env ? old : new Pool(env));
        }
        return pool;
    }

    /**
     * Skipped inputs are dropped; error inputs come back as error predictions. With {@code flipAverage}, each
     * image's probabilities are the mean of the softmax of the image and of its horizontal mirror image.
     */
    public static JavaRDD<Prediction> predict(JavaRDD<ImageInput> images, SharedModel model, ModelCard card,
                                              boolean flipAverage) {
        return predict(images, model, new Preprocessor(card.inputSize(), card.channels()), card.normalization(),
                flipAverage);
    }

    public static JavaRDD<Prediction> predict(JavaRDD<ImageInput> images, SharedModel model, Preprocessor pre,
                                              Normalization norm, boolean flipAverage) {
        return withModel(images, model, (graph, it) -> predictPartition(graph, it, pre, norm, flipAverage));
    }

    /** What runs on each partition with a network of its own. */
    public interface PartitionFunction<T, R> extends Serializable {
        List<R> apply(ComputationGraph graph, Iterator<T> rows) throws Exception;
    }

    /** Runs {@code fn} on every partition with a network of {@code model} (pooled per JVM). */
    public static <T, R> JavaRDD<R> withModel(JavaRDD<T> rows, SharedModel model, PartitionFunction<T, R> fn) {
        return rows.mapPartitions(it -> {
            Pool pool = model.networks();
            ComputationGraph graph = pool.take(model);
            try {
                return fn.apply(graph, it).iterator();
            } finally {
                pool.idle.add(graph);
            }
        });
    }

    private static List<Prediction> predictPartition(ComputationGraph graph, Iterator<ImageInput> it, Preprocessor pre,
                                                     Normalization norm, boolean flipAverage) {
        List<Prediction> out = new ArrayList<>();
        List<ImageInput> batch = new ArrayList<>(BATCH);
        while (it.hasNext()) {
            ImageInput in = it.next();
            if (in.skipped()) {
                continue;
            }
            if (in.error() != null) {
                out.add(failed(in));
                continue;
            }
            batch.add(in);
            if (batch.size() == BATCH) {
                out.addAll(predictBatch(graph, batch, pre, norm, flipAverage));
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            out.addAll(predictBatch(graph, batch, pre, norm, flipAverage));
        }
        return out;
    }

    /** The error prediction of an input that could not be decoded. */
    public static Prediction failed(ImageInput in) {
        return new Prediction(in.sourcePath(), in.imageId(), in.labelIndex(), null, in.error(), in.origin());
    }

    /** Predictions for decoded inputs, run as one minibatch. */
    public static List<Prediction> predictBatch(ComputationGraph graph, List<ImageInput> batch, Preprocessor pre,
                                                Normalization norm, boolean flipAverage) {
        float[][] inputs = new float[batch.size()][];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = pre.input(batch.get(i).image(), norm);
        }
        float[][] probs = flipAverage ? flipAveraged(graph, inputs, pre) : output(graph, inputs, pre);
        List<Prediction> out = new ArrayList<>(batch.size());
        for (int i = 0; i < probs.length; i++) {
            ImageInput in = batch.get(i);
            out.add(new Prediction(in.sourcePath(), in.imageId(), in.labelIndex(), probs[i], null, in.origin()));
        }
        return out;
    }

    /**
     * Test-time augmentation: the mean of the softmax outputs of each input and of its horizontal mirror,
     * computed in one forward pass (inference batch norm makes rows independent of their batch).
     */
    public static float[][] flipAveraged(ComputationGraph graph, float[][] inputs, Preprocessor pre) {
        int n = inputs.length;
        float[][] both = new float[2 * n][];
        for (int i = 0; i < n; i++) {
            both[i] = inputs[i];
            both[n + i] = pre.mirrored(inputs[i]);
        }
        float[][] probs = output(graph, both, pre);
        float[][] mean = new float[n][];
        for (int i = 0; i < n; i++) {
            mean[i] = new float[probs[i].length];
            for (int c = 0; c < mean[i].length; c++) {
                mean[i][c] = (probs[i][c] + probs[n + i][c]) / 2;
            }
        }
        return mean;
    }

    /** Preprocessed CHW inputs as one minibatch array of the network's input shape. */
    public static INDArray features(float[][] inputs, Preprocessor pre) {
        int n = inputs.length;
        int per = inputs[0].length;
        float[] flat = new float[n * per];
        for (int i = 0; i < n; i++) {
            System.arraycopy(inputs[i], 0, flat, i * per, per);
        }
        return Nd4j.create(flat, pre.inputShape(n), 'c');
    }

    /** Softmax outputs for preprocessed CHW inputs, from a network in either layout. */
    public static float[][] output(ComputationGraph graph, float[][] inputs, Preprocessor pre) {
        // The channels-last view of the features is not closed: a view cannot be; its buffer is the features'.
        try (INDArray features = features(inputs, pre);
             INDArray out = graph.outputSingle(false, InferenceGraph.input(graph, features))) {
            return out.castTo(DataType.FLOAT).toFloatMatrix();
        }
    }
}
