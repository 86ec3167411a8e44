import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.config.Nd4jRuntime;
import org.busispark.model.InferenceGraph;
import org.busispark.model.ResNetBuilder;
import org.busispark.model.onednn.OneDnnLayers;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * DL4J side of bench/train-speed.sh: the product's ResNet (ResNetBuilder) on random 1-channel images, Adam,
 * timed after warm-up, with its training convolutions on oneDNN as busi train runs them
 * ({@code -Dbusi.train.convolutions=nd4j}: ND4J's own path). Modes: fit (plain single-JVM ComputationGraph.fit), infer (output in inference mode),
 * infer-folded (the same with batch norm folded into the convolutions and channels-last, InferenceGraph.of, as busi
 * score runs it),
 * spark-fit (the same fit through Spark local[N] and dl4j-spark's ParameterAveragingTrainingMaster, as busi train
 * runs it). Usage: java -cp CLASSPATH bench/Dl4jSpeed.java MODE ARCH SIZE BATCH BATCHES [WORKERS]
 */
public class Dl4jSpeed {
    public static void main(String[] a) {
        Nd4jRuntime.configure();
        String mode = a[0];
        String arch = a[1];
        int size = Integer.parseInt(a[2]);
        int batch = Integer.parseInt(a[3]);
        int batches = Integer.parseInt(a[4]);
        int workers = a.length > 5 ? Integer.parseInt(a[5]) : 2;
        BusiConfig config = ConfigLoader.load(null, Map.of(
                "busi.model.architecture", arch, "busi.model.input-size", String.valueOf(size),
                "busi.model.width-multiplier", "1.0", "busi.train.optimizer", "adam",
                "busi.train.schedule", "constant", "busi.train.warmup-epochs", "0",
                "busi.train.batch-size-per-worker", String.valueOf(batch),
                "busi.train.convolutions", System.getProperty("busi.train.convolutions", "onednn")));
        ComputationGraph graph = ResNetBuilder.build(config.model(), config.train());
        if (mode.startsWith("infer")) {
            // busi score infers on Spark task threads, whose OpenMP team is one thread per core; ND4J sets 4 on the
            // thread that loads it, this one
            NativeOpsHolder.getInstance().getDeviceNativeOps()
                    .setOmpNumThreads(Runtime.getRuntime().availableProcessors());
        }
        if (config.train().oneDnnConvolutions() && mode.equals("fit")) {
            OneDnnLayers.install(graph); // as busi train does (on its workers, spark-fit below)
        }
        List<DataSet> data = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            INDArray y = Nd4j.zeros(DataType.FLOAT, batch, 3);
            for (int r = 0; r < batch; r++) {
                y.putScalar(r, (i + r) % 3, 1f);
            }
            data.add(new DataSet(Nd4j.rand(DataType.FLOAT, batch, 1, size, size), y));
        }
        double seconds = switch (mode) {
            case "fit" -> time(() -> data.forEach(graph::fit));
            case "infer" -> time(() -> data.forEach(d -> graph.outputSingle(false, d.getFeatures()).close()));
            case "infer-folded" -> {
                ComputationGraph folded = InferenceGraph.of(graph);
                if (config.train().oneDnnConvolutions()) {
                    OneDnnLayers.installForInference(folded); // as busi score does
                }
                yield time(() -> data.forEach(d -> folded.outputSingle(false, InferenceGraph.input(folded, d.getFeatures())).close()));
            }
            case "spark-fit" -> sparkFit(graph, data, config.train(), workers);
            default -> throw new IllegalArgumentException("mode: fit | infer | infer-folded | spark-fit");
        };
        System.out.printf("dl4j %s %s %dx%d batch %d: %.2f images/s%n", mode, arch, size, size, batch,
                batches * batch / seconds);
    }

    /** Passes over the data before the timed ones: JIT, oneDNN kernels, workspaces and Spark's task threads warm up. */
    static final int WARM_UP = 3, TIMED = 3;

    /**
     * Seconds per pass over the data, averaged over the timed passes after the warm-up ones. A training run makes
     * hundreds of such passes; dl4j-spark's workers run on Spark's task threads, and a thread's first minibatch costs
     * about 0.6 s more (DL4J's workspaces are per thread), so one warm-up pass left a cold thread in most timed runs.
     */
    private static double time(Runnable pass) {
        for (int i = 0; i < WARM_UP; i++) {
            pass.run();
        }
        long start = System.nanoTime();
        for (int i = 0; i < TIMED; i++) {
            pass.run();
        }
        return (System.nanoTime() - start) / 1e9 / TIMED;
    }

    private static double sparkFit(ComputationGraph graph, List<DataSet> data, BusiConfig.Train train, int workers) {
        SparkConf conf = new SparkConf().setMaster("local[" + workers + "]").setAppName("dl4j-speed")
                .set("spark.ui.enabled", "false")
                .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryo.registrator", "org.busispark.config.BusiKryoRegistrator");
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            ParameterAveragingTrainingMaster master = new ParameterAveragingTrainingMaster.Builder(workers, 1)
                    .batchSizePerWorker(train.batchSizePerWorker())
                    .averagingFrequency(train.averagingFrequency())
                    .workerPrefetchNumBatches(0)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .storageLevel(StorageLevel.MEMORY_ONLY_SER())
                    // every worker may use all cores, as busi train's workers with a local master
                    .trainingHooks(train.oneDnnConvolutions()
                            ? List.of(OneDnnLayers.installer(Runtime.getRuntime().availableProcessors())) : List.of())
                    .build();
            SparkComputationGraph spark = new SparkComputationGraph(jsc, graph, master);
            JavaRDD<DataSet> rdd = jsc.parallelize(data, workers).persist(StorageLevel.MEMORY_ONLY_SER());
            rdd.count();
            double seconds = time(() -> spark.fit(rdd));
            // dl4j-spark trains on at most one averaging round of each fit's data and drops the rest silently
            long expected = (long) (WARM_UP + TIMED) * data.size() / workers;
            if (spark.getNetwork().getIterationCount() != expected) {
                throw new IllegalStateException("each worker trained " + spark.getNetwork().getIterationCount()
                        + " minibatches, not " + expected + ": use BATCHES = workers x averaging frequency");
            }
            return seconds;
        }
    }
}
