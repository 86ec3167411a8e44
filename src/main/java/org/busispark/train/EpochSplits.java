package org.busispark.train;

import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.PartitionPruningRDD;
import scala.Tuple2;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Cuts an epoch's training rows into the averaging rounds of parameter averaging, one Spark partition each, so
 * that {@code fit} can be given one round at a time. Given a whole epoch, dl4j-spark cuts it itself with
 * {@code SparkUtils.balancedRandomSplit}, whose filter walks every example of the epoch once per round: the
 * examples are augmented once but deserialised (into new off-heap arrays) once per round, so work and memory grew
 * with the square of the training set (59 rounds x 3752 examples on BUSI eight times over, at 26 images/s
 * against 60). Here every row is shuffled to its round once per epoch.
 *
 * <p>An epoch is a multiset of row indices, its slots: every row once, or with site balancing a draw in which
 * each site fills the same share. Which round a slot joins, and its place in it, come from a permutation of the
 * slots seeded by (seed, epoch), and the draw is seeded by (seed, epoch) too: the same on any number of executors.
 */
final class EpochSplits implements Serializable {
    /** Row i fills slots first[i] .. first[i + 1] - 1 (its copies; none when it was not drawn). */
    private final int[] first;
    /** Where each slot goes in the epoch's order. */
    private final int[] position;
    private final int roundSize;

    /** How a row's later copies in an epoch are told apart, so that each is augmented differently. */
    @FunctionalInterface
    interface Copies<T> extends Serializable {
        /** Copy {@code n} (from 0) of {@code row}; copy 0 must be the row itself. */
        T copy(T row, int n);
    }

    /**
     * An epoch of every row once.
     *
     * @param rows      the number of training rows (indexed 0..rows-1 by {@code zipWithIndex})
     * @param roundSize workers x batch size per worker x averaging frequency: the examples of one round
     */
    EpochSplits(int rows, int roundSize, long seed, int epoch) {
        this(once(rows), roundSize, seed, epoch);
    }

    private EpochSplits(int[] copies, int roundSize, long seed, int epoch) {
        if (roundSize <= 0) {
            throw new IllegalArgumentException("round size must be positive, got " + roundSize);
        }
        this.roundSize = roundSize;
        this.first = new int[copies.length + 1];
        for (int i = 0; i < copies.length; i++) {
            first[i + 1] = first[i] + copies[i];
        }
        int slots = first[copies.length];
        this.position = new int[slots];
        for (int i = 0; i < slots; i++) {
            position[i] = i;
        }
        Random r = new Random(seed * 1_000_003L + epoch);
        for (int i = slots - 1; i > 0; i--) { // Fisher-Yates
            int j = r.nextInt(i + 1);
            int t = position[i];
            position[i] = position[j];
            position[j] = t;
        }
    }

    /**
     * A site-balanced epoch of as many slots as rows, where every site gets the same share (the remainder's
     * extra slots go to sites drawn at random): a site larger than its share gives a sample of its rows without
     * replacement, a smaller one all its rows as many whole times as fit and a sample of them for the rest. With
     * one site it is {@link #EpochSplits(int, int, long, int)}.
     *
     * @param siteRows the number of rows of each site, whose rows are consecutive indices in this order
     */
    static EpochSplits siteBalanced(int[] siteRows, int roundSize, long seed, int epoch) {
        if (siteRows.length == 0 || Arrays.stream(siteRows).anyMatch(n -> n <= 0)) {
            throw new IllegalArgumentException("every site needs training rows: " + Arrays.toString(siteRows));
        }
        int rows = Arrays.stream(siteRows).sum();
        int sites = siteRows.length;
        // Its own generator, so that the slots' permutation is the same as without balancing.
        SplittableRandom draw = new SplittableRandom(seed * 1_000_003L + epoch);
        boolean[] extra = new boolean[sites];
        sample(draw, extra, rows % sites);
        int[] copies = new int[rows];
        int from = 0;
        for (int s = 0; s < sites; s++) {
            int n = siteRows[s];
            int share = rows / sites + (extra[s] ? 1 : 0);
            boolean[] oneMore = new boolean[n];
            sample(draw, oneMore, share % n);
            for (int i = 0; i < n; i++) {
                copies[from + i] = share / n + (oneMore[i] ? 1 : 0);
            }
            from += n;
        }
        return new EpochSplits(copies, roundSize, seed, epoch);
    }

    /** Marks {@code k} of {@code chosen}'s entries at random, each set of k alike (selection sampling). */
    private static void sample(SplittableRandom rnd, boolean[] chosen, int k) {
        int n = chosen.length;
        for (int i = 0; i < n && k > 0; i++) {
            if (rnd.nextInt(n - i) < k) {
                chosen[i] = true;
                k--;
            }
        }
    }

    private static int[] once(int rows) {
        int[] copies = new int[rows];
        Arrays.fill(copies, 1);
        return copies;
    }

    int rounds() {
        return (position.length + roundSize - 1) / roundSize;
    }

    /** How many times row {@code index} is in the epoch. */
    int copies(long index) {
        int i = Math.toIntExact(index);
        return first[i + 1] - first[i];
    }

    /** Where copy {@code n} of row {@code index} goes in the epoch's order; its round is {@code position / roundSize}. */
    int position(long index, int n) {
        return position[first[Math.toIntExact(index)] + n];
    }

    /** Where row {@code index}'s first copy goes (its only one without site balancing). */
    int position(long index) {
        return position(index, 0);
    }

    /**
     * The rows keyed by their place in the epoch, one partition per round, sorted within it. Computed by one
     * shuffle of the (cached) rows; {@link #round} then reads one partition of it.
     */
    <T> JavaRDD<T> byRound(JavaPairRDD<T, Long> indexedRows) {
        return byRound(indexedRows, (row, n) -> row);
    }

    /** {@link #byRound(JavaPairRDD)} with each copy of a row after the first made by {@code copies}. */
    <T> JavaRDD<T> byRound(JavaPairRDD<T, Long> indexedRows, Copies<T> copies) {
        EpochSplits self = this;
        return indexedRows.flatMapToPair(t -> {
                    List<Tuple2<Integer, T>> out = new ArrayList<>(self.copies(t._2()));
                    for (int n = 0; n < self.copies(t._2()); n++) {
                        out.add(new Tuple2<>(self.position(t._2(), n), copies.copy(t._1(), n)));
                    }
                    return out.iterator();
                })
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
