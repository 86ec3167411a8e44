package org.busispark.evaluate;

import org.apache.spark.sql.SparkSession;
import org.busispark.config.BusiConfig;
import org.busispark.model.ModelLoadException;
import org.busispark.model.ModelRegistry;
import org.busispark.model.Promotion;
import org.busispark.storage.Storage;

import java.util.Optional;

/**
 * Publishes a trained model to the model store and promotes it only if it beats the champion: the champion is
 * re-evaluated on the challenger's test images (the same split and site) in the same job, because its stored metrics
 * may come from an older split (incremental ingest adds test images over time), so both are compared on identical
 * images.
 */
public final class PromotionGate {
    private PromotionGate() {}

    /**
     * @param challenger    the challenger's evaluation on a test split, or null when it was not evaluated (then it
     *                      is promoted only if there is no champion)
     * @param evaluationDir where that evaluation's files are, published with the model; null for none
     * @param championDir   where the champion's re-evaluation goes
     */
    public static Promotion.Decision publish(SparkSession spark, BusiConfig config, String modelDir,
                                             EvaluateJob.Report challenger, String evaluationDir, String championDir,
                                             String decidedBy) {
        Storage storage = new Storage(spark.sparkContext().hadoopConfiguration());
        BusiConfig.Store store = config.store();
        Promotion promotion = new Promotion(store.promotion(), decidedBy);
        Optional<String> champion = ModelRegistry.latestVersion(storage, store.uri(), store.modelName());
        EvaluateJob.Report championReport = null;
        String unusable = null;
        if (champion.isPresent() && challenger != null) {
            try {
                championReport = EvaluateJob.run(spark, config,
                        Storage.child(ModelRegistry.modelUri(store.uri(), store.modelName()), champion.get()),
                        challenger.data(), challenger.split(), challenger.site(), championDir);
            } catch (ModelLoadException e) {
                unusable = "the champion could not be evaluated on the test split: " + e.getMessage();
            }
        }
        String version = ModelRegistry.commit(storage, store.uri(), store.modelName(), modelDir, evaluationDir);
        Promotion.Decision decision;
        if (challenger == null || unusable != null) {
            decision = promotion.unmeasured(version, champion.orElse(null), unusable != null ? unusable
                    : "not evaluated on a test split (" + decidedBy + " publishes the model alone)");
        } else {
            decision = promotion.decide(score(store.promotion(), version, challenger),
                    championReport == null ? null : score(store.promotion(), champion.get(), championReport),
                    challenger.data() + " (" + challenger.selection() + ")");
        }
        ModelRegistry.decide(storage, store.uri(), store.modelName(), decision);
        return decision;
    }

    private static Promotion.Score score(BusiConfig.Promotion rule, String version, EvaluateJob.Report report) {
        return new Promotion.Score(version, EvaluationResult.PROMOTION_METRICS.get(rule.metric()).applyAsDouble(report.result()),
                report.result().metrics().count());
    }
}
