package org.busispark.train;

import org.busispark.model.ModelCard;
import org.busispark.storage.Json;
import org.busispark.storage.Storage;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Training checkpoints under {@code <output>/checkpoints/epoch-NNNN/}: the network with its updater state
 * ({@code model.zip}), the best network so far ({@code best.zip}), the running average of the last epochs' weights
 * when the model kept is such an average ({@code average.zip}) and {@code state.json}, written last and
 * recording the other files' sizes. A checkpoint without a matching state.json is half-written and ignored, so
 * a crash while checkpointing never breaks {@code --resume} (which also works on object stores, where nothing
 * can be renamed atomically).
 */
public final class Checkpoints {
    public static final String DIR = "checkpoints";
    static final String MODEL = "model.zip";
    static final String BEST = "best.zip";
    static final String AVERAGE = "average.zip";
    static final String STATE = "state.json";
    /** Older checkpoints beyond this many are deleted once a new one is complete. */
    static final int KEEP = 2;

    private Checkpoints() {}

    /**
     * @param epoch       the last finished epoch (1-based)
     * @param bestMetrics    validation metrics of the best epoch (as in the model card)
     * @param averagedEpochs how many epochs' weights {@code average.zip} averages (0: there is none; checkpoints
     *                       written before averaging existed read as 0)
     * @param initialWeights where the run's starting weights came from, for the card of a resumed run (null: random)
     */
    public record State(int epoch, int bestEpoch, double bestScore, Map<String, Object> bestMetrics, long modelBytes,
                        long bestBytes, long seed, int averagedEpochs, long averageBytes,
                        ModelCard.InitialWeights initialWeights) {}

    /** A checkpoint read back: its state and the networks' zips ({@code average} null when there is none). */
    public record Restored(State state, byte[] model, byte[] best, byte[] average) {}

    /** @param average the running average's network, or null when none is kept */
    public static void save(Storage storage, String outputUri, State state, byte[] model, byte[] best, byte[] average) {
        String dir = folder(outputUri, state.epoch());
        storage.writeBytes(Storage.child(dir, MODEL), model);
        storage.writeBytes(Storage.child(dir, BEST), best);
        if (average != null) {
            storage.writeBytes(Storage.child(dir, AVERAGE), average);
        }
        storage.writeText(Storage.child(dir, STATE), Json.write(state));
        List<Integer> epochs = completeEpochs(storage, outputUri).stream().sorted(Comparator.reverseOrder()).toList();
        for (int old : epochs.subList(Math.min(KEEP, epochs.size()), epochs.size())) {
            storage.delete(folder(outputUri, old));
        }
    }

    /** The newest complete checkpoint, if any. */
    public static Optional<Restored> latest(Storage storage, String outputUri) {
        Map<String, Long> files = storage.exists(Storage.child(outputUri, DIR))
                ? storage.listFiles(Storage.child(outputUri, DIR)) : Map.of();
        for (int epoch : candidates(files).descendingSet()) {
            String prefix = name(epoch) + "/";
            if (!files.containsKey(prefix + STATE)) {
                continue;
            }
            String dir = folder(outputUri, epoch);
            State s = Json.read(storage.readText(Storage.child(dir, STATE)), State.class);
            boolean averaged = s.averagedEpochs() > 0;
            if (Long.valueOf(s.modelBytes()).equals(files.get(prefix + MODEL))
                    && Long.valueOf(s.bestBytes()).equals(files.get(prefix + BEST))
                    && (!averaged || Long.valueOf(s.averageBytes()).equals(files.get(prefix + AVERAGE)))) {
                return Optional.of(new Restored(s, storage.readBytes(Storage.child(dir, MODEL)),
                        storage.readBytes(Storage.child(dir, BEST)),
                        averaged ? storage.readBytes(Storage.child(dir, AVERAGE)) : null));
            }
        }
        return Optional.empty();
    }

    private static List<Integer> completeEpochs(Storage storage, String outputUri) {
        Map<String, Long> files = storage.listFiles(Storage.child(outputUri, DIR));
        return candidates(files).stream().filter(e -> files.containsKey(name(e) + "/" + STATE)).toList();
    }

    private static TreeSet<Integer> candidates(Map<String, Long> files) {
        TreeSet<Integer> out = new TreeSet<>();
        for (String f : files.keySet()) {
            String first = f.substring(0, Math.max(0, f.indexOf('/')));
            if (first.matches("epoch-\\d+")) {
                out.add(Integer.parseInt(first.substring("epoch-".length())));
            }
        }
        return out;
    }

    static String name(int epoch) {
        return String.format("epoch-%04d", epoch);
    }

    private static String folder(String outputUri, int epoch) {
        return Storage.child(Storage.child(outputUri, DIR), name(epoch));
    }
}
