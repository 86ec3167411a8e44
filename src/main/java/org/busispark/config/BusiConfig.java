package org.busispark.config;

import java.util.List;
import java.util.Map;

/**
 * The application's whole configuration, typed and immutable. Built once by {@link ConfigLoader} from
 * reference.conf, a deployment file and command-line overrides; everything else receives the part it needs.
 */
public record BusiConfig(Spark spark, Ingest ingest, Augment augment, Model model, Train train, Score score,
                         Store store)
        implements java.io.Serializable {

    public record Spark(String master, String appName, Map<String, String> properties)
            implements java.io.Serializable {
        public Spark {
            properties = Map.copyOf(properties);
        }
    }

    public record Split(double train, double validation, double test) implements java.io.Serializable {}

    public record Ingest(int minSide, long maxPixels, long maxFileBytes, int nearDuplicateDistance,
                         String labelConflicts, Split split, long seed) implements java.io.Serializable {}

    public record Augment(double cropScaleMin, double cropScaleMax, double cropRatioMin, double cropRatioMax,
                          double horizontalFlip, double verticalFlip, double rotationDegrees, double translate,
                          double brightness, double contrast,
                          double blurProbability, double blurSigmaMax,
                          double erasingProbability, double erasingAreaMax, double lesionCrop,
                          String inputNormalization)
            implements java.io.Serializable {
        public static final String PER_IMAGE = "per-image";

        /** Whether each image is normalised by its own mean and standard deviation. */
        public boolean perImageNormalization() {
            return PER_IMAGE.equals(inputNormalization);
        }
    }

    public record Model(String architecture, int inputSize, int channels, double widthMultiplier,
                        List<String> classes) implements java.io.Serializable {
        public Model {
            classes = List.copyOf(classes);
        }

        public int numClasses() {
            return classes.size();
        }
    }

    public record Train(int epochs, String optimizer, double learningRate, String schedule, int warmupEpochs,
                        int stepEpochs, double stepGamma, double weightDecay, String classWeights,
                        int earlyStoppingPatience, int averageLastEpochs, int trainAccuracyEvery, int checkpointEvery, int batchSizePerWorker, int averagingFrequency, int workers,
                        String storageLevel, long seed, String convolutions) implements java.io.Serializable {
        /** Training convolutions on this project's oneDNN primitives (org.busispark.model.onednn), not ND4J's. */
        public boolean oneDnnConvolutions() {
            return convolutions.equals("onednn");
        }
    }

    /**
     * {@code busi score}: test-time augmentation ("none" or "hflip": average with the mirrored image) and how many
     * of each run's images with the highest malignant probability get a Grad-CAM overlay (0: none).
     */
    public record Score(String tta, int gradcamTop) implements java.io.Serializable {
        public boolean flipAverage() {
            return tta.equals("hflip");
        }
    }

    /** Where `busi train` and `busi run` publish versioned models; an empty uri publishes nothing. */
    public record Store(String uri, String modelName, Promotion promotion) implements java.io.Serializable {
        public boolean enabled() {
            return !uri.isEmpty();
        }
    }

    /** A challenger replaces the champion when its test {@code metric} is at least {@code minImprovement} higher. */
    public record Promotion(String metric, double minImprovement) implements java.io.Serializable {}
}
