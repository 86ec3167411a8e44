package org.busispark.train;

import org.busispark.augment.Augmenter;
import org.busispark.augment.LesionBox;
import org.busispark.augment.Normalization;
import org.busispark.augment.Preprocessor;
import org.busispark.ingest.ImageCodec;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.Iterator;

/**
 * The augmentation map stage: turns training rows into one-example DataSets for one epoch. DL4J's workers
 * stack them into minibatches of {@code batch-size-per-worker}.
 */
final class TrainingExamples implements Serializable {
    /**
     * A training row as it is cached between epochs: its id, class, normalised PNG and lesion box (or null). The
     * id keys the row's augmentation.
     */
    record Row(String imageId, int labelIndex, byte[] png, LesionBox lesion) implements Serializable {
        /**
         * Copy {@code n} (from 0) of this row in an epoch that draws it more than once: the first is the row itself,
         * so it augments as it would alone; later ones are keyed by "id#2", "id#3", ... and augment differently.
         */
        Row copy(int n) {
            return n == 0 ? this : new Row(imageId + "#" + (n + 1), labelIndex, png, lesion);
        }
    }

    private final Augmenter augmenter;
    private final Preprocessor preprocessor;
    private final Normalization normalization;
    private final int numClasses;
    private final long seed;

    TrainingExamples(Augmenter augmenter, Preprocessor preprocessor, Normalization normalization, int numClasses,
                     long seed) {
        this.augmenter = augmenter;
        this.preprocessor = preprocessor;
        this.normalization = normalization;
        this.numClasses = numClasses;
        this.seed = seed;
    }

    Iterator<DataSet> epoch(Iterator<Row> rows, int epoch) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public DataSet next() {
                return example(rows.next(), epoch);
            }
        };
    }

    DataSet example(Row row, int epoch) {
        float[] plane = augmenter.augment(ImageCodec.decodePng(row.png()), row.lesion(), seed, epoch, row.imageId());
        float[] input = preprocessor.toInput(plane, normalization);
        float[] label = new float[numClasses];
        label[row.labelIndex()] = 1f;
        return new DataSet(Nd4j.create(input, preprocessor.inputShape(1), 'c'), Nd4j.create(label, new long[] {1, numClasses}, 'c'));
    }
}
