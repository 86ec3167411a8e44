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

    /** @param sources the archives of the dataset, one per site; empty when the command line names them */
    public record Ingest(int minSide, long maxPixels, long maxFileBytes, int nearDuplicateDistance,
                         String labelConflicts, Split split, long seed, List<Source> sources)
            implements java.io.Serializable {
        public Ingest {
            sources = List.copyOf(sources);
        }
    }

    /**
     * One archive of a dataset: its site's name, where it is (a class-folder tree or a CSV manifest), and for a
     * CSV how its columns map (null: the default columns, {@link Manifest#DEFAULT}).
     */
    public record Source(String site, String uri, Manifest manifest) implements java.io.Serializable {}

    /**
     * How a metadata CSV gives each image's fields: each value a column name, or a template with {@code {COLUMN}}
     * placeholders ({@code {COLUMN#PREFIX}}, {@code {COLUMN%SUFFIX}} drop a prefix or suffix of the value). Image
     * and label are required; patient, scanner and mask may be null (the source has none).
     */
    public record Manifest(String image, String label, String patient, String scanner, String mask)
            implements java.io.Serializable {
        /** The columns of a plain manifest; patient, scanner and mask are used when the header has them. */
        public static final Manifest DEFAULT = new Manifest("path", "label", "patient_id", "scanner", "mask_path");
    }

    public record Augment(double cropScaleMin, double cropScaleMax, double cropRatioMin, double cropRatioMax,
                          double horizontalFlip, double verticalFlip, double rotationDegrees, double translate,
                          double brightness, double contrast,
                          double blurProbability, double blurSigmaMax,
                          double erasingProbability, double erasingAreaMax, double lesionCrop,
                          String inputNormalization)
            implements java.io.Serializable {
        public static final String PER_IMAGE = "per-image";
        public static final String IMAGENET = "imagenet";

        /** Whether each image is normalised by its own mean and standard deviation. */
        public boolean perImageNormalization() {
            return PER_IMAGE.equals(inputNormalization);
        }

        /** Whether inputs are normalised by ImageNet's statistics, as torchvision's pretrained weights expect. */
        public boolean imageNetNormalization() {
            return IMAGENET.equals(inputNormalization);
        }
    }

    /**
     * @param pretrained URI of the weights training starts from (a torchvision checkpoint or a busi model), or ""
     *                   for random initialisation
     */
    public record Model(String architecture, int inputSize, int channels, double widthMultiplier,
                        List<String> classes, String pretrained) implements java.io.Serializable {
        public Model {
            classes = List.copyOf(classes);
        }

        /** A model trained from random weights. */
        public Model(String architecture, int inputSize, int channels, double widthMultiplier, List<String> classes) {
            this(architecture, inputSize, channels, widthMultiplier, classes, "");
        }

        /** The URI of the starting weights, or null for random initialisation. */
        public String pretrainedUri() {
            return pretrained.isEmpty() ? null : pretrained;
        }

        public int numClasses() {
            return classes.size();
        }
    }

    public record Train(int epochs, String optimizer, double learningRate, String schedule, int warmupEpochs,
                        int stepEpochs, double stepGamma, double weightDecay, String classWeights,
                        int earlyStoppingPatience, int averageLastEpochs, int trainAccuracyEvery, int checkpointEvery, int batchSizePerWorker, int averagingFrequency, int workers,
                        String storageLevel, long seed, String convolutions, String siteBalance,
                        String holdoutSite, int freezeEpochs, double backboneLearningRateFactor)
            implements java.io.Serializable {
        public static final String SITE_BALANCE_EQUAL = "equal";

        /** Whether every site contributes the same share of each epoch. */
        public boolean siteBalanced() {
            return SITE_BALANCE_EQUAL.equals(siteBalance);
        }

        /** The site left out of training and validation (leave-one-site-out), or null. */
        public String heldOutSite() {
            return holdoutSite.isEmpty() ? null : holdoutSite;
        }

        /** Whether the backbone learns on its own schedule (frozen first, or at a lower rate than the head). */
        public boolean backboneScheduled() {
            return freezeEpochs > 0 || backboneLearningRateFactor != 1;
        }

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
