package org.busispark.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** An epoch cut into averaging rounds: a seeded permutation, one partition per round, every row exactly once. */
@ExtendWith(StopsSpark.class)
class EpochSplitsTest {
    @Test
    void roundsArePositionsOfASeededPermutation() {
        EpochSplits a = new EpochSplits(101, 16, 7, 3);
        assertEquals(7, a.rounds());
        assertEquals(16, IntStream.range(0, 101).filter(i -> a.position(i) / 16 == 0).count());
        assertEquals(5, IntStream.range(0, 101).filter(i -> a.position(i) / 16 == 6).count(),
                "the last round holds the rest");
        Set<Integer> seen = new HashSet<>();
        IntStream.range(0, 101).forEach(i -> seen.add(a.position(i)));
        assertEquals(101, seen.size(), "a permutation");
        List<Integer> same = IntStream.range(0, 101).map(i -> new EpochSplits(101, 16, 7, 3).position(i)).boxed().toList();
        List<Integer> positions = IntStream.range(0, 101).map(a::position).boxed().toList();
        assertEquals(positions, same, "the same seed and epoch give the same rounds");
        List<Integer> next = IntStream.range(0, 101).map(i -> new EpochSplits(101, 16, 7, 4).position(i)).boxed().toList();
        assertNotEquals(positions, next, "each epoch reshuffles");
        assertThrows(IllegalArgumentException.class, () -> new EpochSplits(10, 0, 1, 1));
    }

    @Test
    void eachRoundIsOnePartitionHoldingItsRowsInOrder() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(StopsSpark.session().sparkContext());
        List<String> rows = IntStream.range(0, 50).mapToObj(i -> "row" + i).toList();
        JavaRDD<String> data = jsc.parallelize(rows, 3);
        EpochSplits splits = new EpochSplits(50, 8, 11, 1);
        JavaRDD<String> byRound = splits.byRound(data.zipWithIndex());
        assertEquals(7, byRound.getNumPartitions());
        List<String> all = new ArrayList<>();
        for (int r = 0; r < splits.rounds(); r++) {
            JavaRDD<String> round = EpochSplits.round(byRound, r);
            assertEquals(1, round.getNumPartitions(), "only the round's own partition is computed");
            List<String> got = round.collect();
            int first = r * 8;
            List<String> expected = IntStream.range(0, 50).boxed()
                    .filter(i -> splits.position(i) / 8 == first / 8)
                    .sorted((x, y) -> Integer.compare(splits.position(x), splits.position(y)))
                    .map(i -> "row" + i).toList();
            assertEquals(expected, got, "round " + r);
            assertEquals(Math.min(8, 50 - first), got.size());
            all.addAll(got);
        }
        assertEquals(new HashSet<>(rows), new HashSet<>(all));
        assertEquals(50, all.size(), "every row in exactly one round");
    }
}
