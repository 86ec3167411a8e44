package org.busispark.model;

import org.busispark.augment.Normalization;
import org.busispark.config.BusiConfig;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Provenance and contract of a trained model, stored beside model.zip: what it predicts, what input it
 * expects, and the data, configuration and code that made it.
 *
 * @param trainingData       the dataset URI, images per split, training images per class, site, and site and
 *                           class, and a fingerprint of the training image ids
 * @param validationMetrics  metrics of the kept epoch on the validation split
 * @param initialWeights     the weights training started from, or null for random ones
 */
public record ModelCard(int formatVersion, String name, List<String> classes, int inputSize, int channels,
                        Normalization normalization, String architecture, double widthMultiplier,
                        long parameters, int bestEpoch, BusiConfig.Train training, BusiConfig.Augment augmentation,
                        TrainingData trainingData, Map<String, Object> validationMetrics, String codeVersion,
                        String createdAt, InitialWeights initialWeights) {
    public static final int FORMAT_VERSION = 1;

    /**
     * Where training's starting weights came from (busi.model.pretrained).
     *
     * @param format     "torchvision" (a torch.save checkpoint) or "busi" (a busi model)
     * @param uri        the checkpoint file, or the busi model's folder
     * @param file       the file's name (a busi model's is model.zip)
     * @param sha256     of the file's bytes
     * @param headLoaded whether the classifier head came from it too (else it started fresh: other classes)
     */
    public record InitialWeights(String format, String uri, String file, String sha256, boolean headLoaded) {}

    /** Sites are named as ingested; "" stands for images whose source named no site. */
    public record TrainingData(String dataset, Map<String, Long> imagesPerSplit, Map<String, Long> trainImagesPerClass,
                               String trainFingerprint, Map<String, Long> trainImagesPerSite,
                               Map<String, Map<String, Long>> trainImagesPerSiteAndClass) {
        public TrainingData {
            // Cards written before sites existed read back without their counts (null).
            trainImagesPerSite = trainImagesPerSite == null ? null : Map.copyOf(trainImagesPerSite);
            trainImagesPerSiteAndClass = trainImagesPerSiteAndClass == null ? null
                    : trainImagesPerSiteAndClass.entrySet().stream()
                            .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> Map.copyOf(e.getValue())));
        }
    }
}
