package org.busispark.train;

import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.PartitionPruningRDD;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.util.Random;

/**
 * Cuts an epoch's training rows into the averaging rounds of parameter averaging, one Spark partition each, so
 * that {@code fit} can be given one round at a time. Given a whole epoch, dl4j-spark cuts it itself with
 * {@code SparkUtils.balancedRandomSplit}, whose filter walks every example of the epoch once per round: the
 * examples are augmented once but deserialised (into new off-heap arrays) once per round, so work and memory grew
 * with the square of the training set (59 rounds x 3752 examples on BUSI eight times over, at 26 images/s
 * against 60). Here every row is shuffled to its round once per epoch.
 *
 * <p>Which round a row joins, and its place in it, come from a permutation of the rows' indices seeded by
 * (seed, epoch): the same on any number of executors.
 */
final class EpochSplits implements Serializable {
    private final int[] position;
    private final int roundSize;

    /**
     * @param rows      the number of training rows (indexed 0..rows-1 by {@code zipWithIndex})
     * @param roundSize workers x batch size per worker x averaging frequency: the examples of one round
     */
    EpochSplits(int rows, int roundSize, long seed, int epoch) {
        if (roundSize <= 0) {
            throw new IllegalArgumentException("round size must be positive, got " + roundSize);
        }
        this.roundSize = roundSize;
        this.position = new int[rows];
        for (int i = 0; i < rows; i++) {
            position[i] = i;
        }
        Random r = new Random(seed * 1_000_003L + epoch);
        for (int i = rows - 1; i > 0; i--) { // Fisher-Yates
            int j = r.nextInt(i + 1);
            int t = position[i];
            position[i] = position[j];
            position[j] = t;
        }
    }

    int rounds() {
        return (position.length + roundSize - 1) / roundSize;
    }

    /** Where row {@code index} goes in the epoch's order; its round is {@code position / roundSize}. */
    int position(long index) {
        return position[Math.toIntExact(index)];
    }

    /**
     * The rows keyed by their place in the epoch, one partition per round, sorted within it. Computed by one
     * shuffle of the (cached) rows; {@link #round} then reads one partition of it.
     */
    <T> JavaRDD<T> byRound(JavaPairRDD<T, Long> indexedRows) {
        EpochSplits self = this;
        return indexedRows.mapToPair(t -> new scala.Tuple2<>(self.position(t._2()), t._1()))
                .repartitionAndSortWithinPartitions(new RoundPartitioner(rounds(), roundSize))
                .values();
    }

    /** Round {@code round} of {@link #byRound}'s result: its one partition, the others not computed. */
    static <T> JavaRDD<T> round(JavaRDD<T> byRound, int round) {
        return JavaRDD.fromRDD(PartitionPruningRDD.create(byRound.rdd(), new Only(round)), byRound.classTag());
    }

    private static final class Only extends AbstractFunction1<Object, Object> implements Serializable {
        private final int partition;

        Only(int partition) {
            this.partition = partition;
        }

        @Override
        public Object apply(Object index) {
            return (Integer) index == partition;
        }
    }

    /** Position p goes to partition p / roundSize. */
    private static final class RoundPartitioner extends Partitioner {
        private final int rounds;
        private final int roundSize;

        RoundPartitioner(int rounds, int roundSize) {
            this.rounds = rounds;
            this.roundSize = roundSize;
        }

        @Override
        public int numPartitions() {
            return rounds;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key / roundSize;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RoundPartitioner p && p.rounds == rounds && p.roundSize == roundSize;
        }

        @Override
        public int hashCode() {
            return 31 * rounds + roundSize;
        }
    }
}
