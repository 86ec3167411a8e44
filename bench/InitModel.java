import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.model.ModelCard;
import org.busispark.model.ModelStore;
import org.busispark.model.ResNetBuilder;
import org.busispark.model.TrainedModel;
import org.busispark.storage.Storage;

import java.time.Instant;
import java.util.Map;

/**
 * For bench/score.sh: saves a freshly initialised model (untrained weights score exactly as fast as trained ones)
 * with the configured architecture and classes at the given input size and width multiplier.
 * Usage: java -cp CLASSPATH bench/InitModel.java OUTPUT_FOLDER INPUT_SIZE WIDTH_MULTIPLIER
 */
public class InitModel {
    public static void main(String[] args) {
        BusiConfig defaults = ConfigLoader.defaults();
        BusiConfig.Model d = defaults.model();
        BusiConfig.Model m = new BusiConfig.Model(d.architecture(), Integer.parseInt(args[1]), d.channels(),
                Double.parseDouble(args[2]), d.classes());
        var graph = ResNetBuilder.build(m, defaults.train());
        ModelCard card = new ModelCard(ModelCard.FORMAT_VERSION, "bench-" + m.architecture(), m.classes(),
                m.inputSize(), m.channels(), new org.busispark.augment.Normalization(0.3, 0.2), m.architecture(),
                m.widthMultiplier(), graph.numParams(), 0, defaults.train(), defaults.augment(),
                new ModelCard.TrainingData("none", Map.of(), Map.of(), "0:0", Map.of(), Map.of()), Map.of(), "bench",
                Instant.now().toString(), null);
        ModelStore.save(new Storage(new org.apache.hadoop.conf.Configuration()), args[0], new TrainedModel(graph, card));
        System.out.printf("model: %s %dx%d, width x%s, %,d parameters (freshly initialised)%n", m.architecture(),
                m.inputSize(), m.inputSize(), args[2], graph.numParams());
    }
}
