package org.busispark.model;

import org.busispark.config.BusiConfig;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.nd4j.linalg.schedule.FixedSchedule;
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

    /**
     * The backbone's rate when it has its own schedule: 0 while it is frozen (AdaBelief's and Adam's steps and the
     * rate-scaled weight decay are then all 0, so its weights stay exactly as loaded), then the schedule's times
     * backbone-learning-rate-factor.
     *
     * @param epoch 0-based
     */
    public static double backboneAt(BusiConfig.Train cfg, int epoch) {
        return epoch < cfg.freezeEpochs() ? 0 : at(cfg, epoch) * cfg.backboneLearningRateFactor();
    }

    /**
     * Sets the epoch's rates as fixed values on every layer's updater, which dl4j-spark's workers read from the
     * configuration it sends with each fit. With a backbone schedule the head's rate is held as a
     * {@link FixedSchedule} and the backbone's as a plain rate, so the two never compare equal: DL4J groups layers
     * of equal updater settings into blocks that lay out the updater state, and a regrouping between the driver's
     * network and the workers' copies would misplace that state (its own per-layer setter fails on a regrouping).
     *
     * @param epoch 0-based
     */
    public static void set(ComputationGraph graph, BusiConfig.Train cfg, int epoch) {
        if (!cfg.backboneScheduled()) {
            graph.setLearningRate(at(cfg, epoch));
            return;
        }
        for (Layer layer : graph.getLayers()) {
            if (layer.conf().getLayer() instanceof BaseLayer conf) {
                if (conf.getLayerName().equals(ResNetBuilder.OUTPUT)) {
                    conf.getIUpdater().setLrAndSchedule(Double.NaN, new FixedSchedule(at(cfg, epoch)));
                } else {
                    conf.getIUpdater().setLrAndSchedule(backboneAt(cfg, epoch), null);
                }
            }
        }
    }

    /** {@link #backboneAt} by epoch, as the network's record of it (the schedule itself without a backbone's). */
    static ISchedule backboneSchedule(BusiConfig.Train cfg) {
        return cfg.backboneScheduled() ? byEpoch(cfg, e -> backboneAt(cfg, e)) : schedule(cfg);
    }

    public static ISchedule schedule(BusiConfig.Train cfg) {
        return byEpoch(cfg, e -> at(cfg, e));
    }

    private static ISchedule byEpoch(BusiConfig.Train cfg, java.util.function.IntToDoubleFunction rate) {
        Map<Integer, Double> values = new HashMap<>();
        for (int e = 0; e < cfg.epochs(); e++) {
            values.put(e, rate.applyAsDouble(e));
        }
        return new MapSchedule(ScheduleType.EPOCH, values);
    }
}
