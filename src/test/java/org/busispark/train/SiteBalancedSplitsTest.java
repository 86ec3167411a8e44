package org.busispark.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.busispark.config.BusiConfig;
import org.busispark.config.ConfigLoader;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Site-balanced epochs: every site fills the same share of an epoch of unchanged size, by subsampling large
 * sites and repeating small ones; and the class weights that go with them.
 */
@ExtendWith(StopsSpark.class)
class SiteBalancedSplitsTest {
    private static final int[] SITES = {7, 30, 13}; // rows 0-6, 7-36, 37-49

    private static int[] copies(EpochSplits s, int rows) {
        return IntStream.range(0, rows).map(s::copies).toArray();
    }

    private static int drawsOf(int[] copies, int from, int to) {
        return IntStream.range(from, to).map(i -> copies[i]).sum();
    }

    @Test
    void everySiteFillsAnEqualShareOfAnEpochOfUnchangedSize() {
        for (int epoch = 1; epoch <= 20; epoch++) {
            EpochSplits s = EpochSplits.siteBalanced(SITES, 8, 7, epoch);
            int[] c = copies(s, 50);
            assertEquals(50, IntStream.of(c).sum(), "the epoch keeps its size");
            assertEquals(7, s.rounds());
            int[] draws = {drawsOf(c, 0, 7), drawsOf(c, 7, 37), drawsOf(c, 37, 50)};
            for (int d : draws) {
                assertTrue(d == 16 || d == 17, "50 draws over 3 sites: " + Arrays.toString(draws));
            }
            // 7 rows for 16-17 draws: every row twice, two or three of them a third time.
            assertTrue(IntStream.range(0, 7).allMatch(i -> c[i] == 2 || c[i] == 3), "small site repeated");
            assertTrue(IntStream.range(7, 37).allMatch(i -> c[i] <= 1), "a large site is never repeated");
            assertTrue(IntStream.range(37, 50).allMatch(i -> c[i] == 1 || c[i] == 2), "13 rows for 16-17 draws");

            Set<Integer> positions = new HashSet<>();
            for (int i = 0; i < 50; i++) {
                for (int n = 0; n < c[i]; n++) {
                    positions.add(s.position(i, n));
                }
            }
            assertEquals(IntStream.range(0, 50).boxed().collect(Collectors.toSet()), positions,
                    "every copy has its own place in the epoch");
        }
    }

    @Test
    void theDrawIsSeededByTheSeedAndEpoch() {
        int[] a = copies(EpochSplits.siteBalanced(SITES, 8, 7, 3), 50);
        assertArrayEquals(a, copies(EpochSplits.siteBalanced(SITES, 8, 7, 3), 50));
        assertNotEquals(Arrays.toString(a),
                Arrays.toString(copies(EpochSplits.siteBalanced(SITES, 8, 7, 4), 50)), "a new draw each epoch");
        assertNotEquals(Arrays.toString(a),
                Arrays.toString(copies(EpochSplits.siteBalanced(SITES, 8, 8, 3), 50)), "and each seed");
        assertThrows(IllegalArgumentException.class, () -> EpochSplits.siteBalanced(new int[] {4, 0}, 8, 7, 1));
    }

    @Test
    void oneSiteOrSitesOfEqualSizeTrainAsWithoutBalancing() {
        for (int[] sites : new int[][] {{50}, {25, 25}}) {
            EpochSplits balanced = EpochSplits.siteBalanced(sites, 8, 7, 3);
            EpochSplits plain = new EpochSplits(50, 8, 7, 3);
            for (int i = 0; i < 50; i++) {
                assertEquals(1, balanced.copies(i));
                assertEquals(plain.position(i), balanced.position(i), "row " + i);
            }
        }
    }

    @Test
    void laterCopiesOfARowAreKeyedApartInTheirRounds() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(StopsSpark.session().sparkContext());
        JavaRDD<String> data = jsc.parallelize(IntStream.range(0, 12).mapToObj(i -> "row" + i).toList(), 3);
        EpochSplits splits = EpochSplits.siteBalanced(new int[] {3, 9}, 5, 11, 1); // 6 draws each
        JavaRDD<String> byRound = splits.byRound(data.zipWithIndex(), (row, n) -> n == 0 ? row : row + "#" + (n + 1));
        List<String> all = new ArrayList<>();
        for (int r = 0; r < splits.rounds(); r++) {
            all.addAll(EpochSplits.round(byRound, r).collect());
        }
        assertEquals(12, all.size());
        assertEquals(12, new HashSet<>(all).size(), "no example twice under one key");
        for (int i = 0; i < 3; i++) {
            assertTrue(all.contains("row" + i) && all.contains("row" + i + "#2"), "the small site's rows twice: " + all);
        }
        assertEquals(6, all.stream().filter(r -> !r.contains("#") && Integer.parseInt(r.substring(3)) >= 3).count(),
                "6 of the large site's 9 rows");
    }

    @Test
    void aRowsFirstCopyAugmentsAsItWouldAloneAndLaterOnesDifferently() {
        TrainingExamples.Row row = new TrainingExamples.Row("abc", 1, new byte[] {1}, null);
        assertSame(row, row.copy(0));
        assertEquals("abc#2", row.copy(1).imageId());
        assertEquals("abc#3", row.copy(2).imageId());
        assertEquals(1, row.copy(2).labelIndex());
    }

    @Test
    void classWeightsAverageOneOverThePresentClassesAndLeaveAnAbsentOneAtOne() {
        BusiConfig.Train cfg = ConfigLoader.defaults().train();
        List<String> classes = List.of("benign", "malignant", "normal");
        double[] w = TrainJob.classWeights(cfg, classes, Map.of("benign", 30.0, "malignant", 10.0));
        assertArrayEquals(new double[] {40.0 / 60, 40.0 / 20, 1.0}, w, 1e-12);
        assertEquals(1.0, (30 * w[0] + 10 * w[1]) / 40, 1e-12, "the mean weight of a training example");
        assertArrayEquals(new double[] {60.0 / 30, 60.0 / 60, 60.0 / 90},
                TrainJob.classWeights(cfg, classes, Map.of("benign", 10.0, "malignant", 20.0, "normal", 30.0)), 1e-12,
                "with every class present: n / (3 n_c)");
    }

    @Test
    void balancedClassCountsWeighEverySiteAlike() {
        // 120 images, 60 draws per site: A's 20 images count three times, B's 100 three fifths.
        Map<String, Double> counts = TrainJob.balancedClassCounts(Map.of(
                "A", Map.of("benign", 10L, "malignant", 10L),
                "B", Map.of("benign", 60L, "malignant", 20L, "normal", 20L)));
        assertEquals(Map.of("benign", 66.0, "malignant", 42.0, "normal", 12.0), counts);
    }
}
