package org.busispark.train;

/**
 * One line of {@code <output>/history/epochs.jsonl}: how an epoch went. {@code trainLoss} is the mean loss over
 * the minibatches fitted (augmented images, without the weight-decay penalty; LossMeter); {@code trainAccuracy} is
 * measured after the epoch on the unaugmented train split, as validation is, and is NaN in epochs that
 * {@code busi.train.train-accuracy-every} skips. Validation fields are NaN without a validation split.
 */
public record EpochRecord(int epoch, double trainLoss, double trainAccuracy, double validationLoss,
                          double validationAccuracy,
                          double validationMacroF1, double learningRate, double imagesPerSecond, double seconds) {}
