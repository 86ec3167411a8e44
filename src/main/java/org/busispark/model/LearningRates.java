package org.busispark.model;

import org.busispark.config.BusiConfig;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

import java.util.HashMap;
import java.util.Map;

/**
 * The per-epoch learning rate: linear warm-up, then cosine decay, steps, or constant. The network's updater
 * carries it as a {@link MapSchedule} keyed by epoch (single-JVM fits and the saved model's record), but
 * dl4j-spark's workers train on a configuration clone that has lost the epoch count, so distributed training
 * sets {@link #at} as a fixed rate before each epoch.
 */
public final class LearningRates {
    /** Cosine decay ends at this fraction of the base rate rather than at zero. */
    static final double COSINE_FLOOR = 0.01;

    private LearningRates() {}

    /** @param epoch 0-based */
    public static double at(BusiConfig.Train cfg, int epoch) {
        double base = cfg.learningRate();
        int warm = Math.min(cfg.warmupEpochs(), cfg.epochs() - 1);
        if (epoch < warm) {
            return base * (epoch + 1) / (warm + 1);
        }
        int since = epoch - warm;
        return switch (cfg.schedule()) {
            case "cosine" -> {
                int span = Math.max(1, cfg.epochs() - 1 - warm);
                double t = Math.min(1.0, (double) since / span);
                yield base * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + Math.cos(Math.PI * t)));
            }
            case "step" -> base * Math.pow(cfg.stepGamma(), since / cfg.stepEpochs());
            case "constant" -> base;
            default -> throw new IllegalArgumentException("Unknown schedule " + cfg.schedule());
        };
    }

    public static ISchedule schedule(BusiConfig.Train cfg) {
        Map<Integer, Double> values = new HashMap<>();
        for (int e = 0; e < cfg.epochs(); e++) {
            values.put(e, at(cfg, e));
        }
        return new MapSchedule(ScheduleType.EPOCH, values);
    }
}
