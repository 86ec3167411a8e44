package org.busispark.train;

/**
 * One line of {@code <output>/history/epochs.jsonl}: how an epoch went. {@code trainLoss} is the minibatch
 * loss DL4J reports while fitting (augmented images, regularisation included); {@code trainAccuracy} is
 * measured after the epoch on the unaugmented train split, as validation is. Validation fields are NaN
 * without a validation split.
 */
public record EpochRecord(int epoch, double trainLoss, double trainAccuracy, double validationLoss,
                          double validationAccuracy,
                          double validationMacroF1, double learningRate, double imagesPerSecond, double seconds) {}
