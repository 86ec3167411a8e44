package org.busispark.ingest;

import org.apache.spark.api.java.JavaSparkContext;
import org.busispark.testing.StopsSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(StopsSpark.class)
class NearDuplicatesTest {
    /**
     * The banded join finds exactly the pairs that comparing every pair finds: each once, smaller id first, with
     * ids that come more than once (exact duplicates) and pairs at exactly the threshold.
     */
    @Test
    void findsExactlyThePairsWithinTheDistanceThatAllPairsFind() {
        Random r = new Random(11);
        List<Tuple2<String, Long>> hashes = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            long h = r.nextLong() & ~1L; // bit 0 of a perceptual hash is always clear
            hashes.add(new Tuple2<>(String.format("id%03d", i), h));
            if (i % 3 == 0) { // a near twin, 1 to 10 bits away
                long twin = h;
                for (int flips = 1 + r.nextInt(10); Long.bitCount(twin ^ h) < flips; ) {
                    twin ^= 1L << (1 + r.nextInt(63));
                }
                hashes.add(new Tuple2<>(String.format("tw%03d", i), twin));
            }
            if (i % 7 == 0) {
                hashes.add(new Tuple2<>(String.format("id%03d", i), h)); // the same image twice
            }
        }
        int d = 8;
        TreeSet<String> expected = new TreeSet<>();
        for (Tuple2<String, Long> a : hashes) {
            for (Tuple2<String, Long> b : hashes) {
                if (a._1().compareTo(b._1()) < 0 && PerceptualHash.distance(a._2(), b._2()) <= d) {
                    expected.add(a._1() + "|" + b._1());
                }
            }
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(StopsSpark.session().sparkContext());
        List<String[]> edges = NearDuplicates.edges(jsc.parallelizePairs(hashes, 3), d);

        List<String> found = edges.stream().map(e -> e[0] + "|" + e[1]).toList();
        assertEquals(new ArrayList<>(expected), found, "the same pairs, each once, in order");
        assertTrue(expected.size() > 50, "twins within the distance: " + expected.size());
        assertTrue(expected.stream().anyMatch(p -> {
            String[] ab = p.split("\\|");
            long ha = hashes.stream().filter(t -> t._1().equals(ab[0])).findFirst().orElseThrow()._2();
            long hb = hashes.stream().filter(t -> t._1().equals(ab[1])).findFirst().orElseThrow()._2();
            return PerceptualHash.distance(ha, hb) == d;
        }), "a pair at exactly the threshold");
    }
}
