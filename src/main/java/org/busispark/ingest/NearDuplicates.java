package org.busispark.ingest;

import org.apache.spark.api.java.JavaPairRDD;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Finds pairs of images whose perceptual hashes differ in at most {@code d} bits without comparing all pairs:
 * the 63 informative bits are cut into {@code d + 1} bands, and by the pigeonhole principle two hashes that
 * close agree exactly on at least one band. Spark groups the images by (band, band value) in one shuffle; only
 * images that share a bucket are compared in full.
 */
public final class NearDuplicates {
    private static final int BITS = 63; // bit 0 of a PerceptualHash is always clear

    private NearDuplicates() {}

    /**
     * @param hashes (image id, perceptual hash); the same id may appear more than once
     * @return distinct id pairs (smaller id first) within {@code maxDistance} bits, excluding self-pairs
     */
    public static List<String[]> edges(JavaPairRDD<String, Long> hashes, int maxDistance) {
        int bands = maxDistance + 1;
        int partitions = Math.max(1, hashes.context().defaultParallelism());
        List<String> found = hashes
                .flatMapToPair(h -> {
                    List<Tuple2<Long, Tuple2<String, Long>>> out = new ArrayList<>(bands);
                    for (int b = 0; b < bands; b++) {
                        out.add(new Tuple2<>(bucket(h._2(), b, bands), h));
                    }
                    return out.iterator();
                })
                .groupByKey(partitions)
                .flatMap(bucket -> {
                    // An id comes more than once when its image does (exact duplicates, or already ingested).
                    Map<String, Long> members = new TreeMap<>();
                    bucket._2().forEach(h -> members.put(h._1(), h._2()));
                    List<Map.Entry<String, Long>> m = new ArrayList<>(members.entrySet());
                    List<String> pairs = new ArrayList<>();
                    for (int i = 0; i < m.size(); i++) {
                        for (int j = i + 1; j < m.size(); j++) {
                            if (PerceptualHash.distance(m.get(i).getValue(), m.get(j).getValue()) <= maxDistance) {
                                pairs.add(m.get(i).getKey() + "|" + m.get(j).getKey()); // ids in order
                            }
                        }
                    }
                    return pairs.iterator();
                })
                .collect();
        // A pair close enough to agree on several bands is found in each of them: made distinct here, where the
        // pairs arrive anyway, instead of with another shuffle.
        return new TreeSet<>(found).stream().map(p -> p.split("\\|")).toList();
    }

    /** The bucket of band {@code b}: the band's index in the top 6 bits, its bit values below. */
    static long bucket(long hash, int b, int bands) {
        int lo = 1 + b * BITS / bands;
        int hi = 1 + (b + 1) * BITS / bands;
        return ((long) b << 57) | ((hash >>> lo) & ((1L << (hi - lo)) - 1));
    }
}
