package org.busispark.train;

/** One line of {@code <output>/history/epochs.jsonl}: how an epoch went. Validation fields are NaN without a validation split. */
public record EpochRecord(int epoch, double trainLoss, double validationLoss, double validationAccuracy,
                          double validationMacroF1, double learningRate, double imagesPerSecond, double seconds) {}
