package org.busispark.ingest;

import org.apache.spark.api.java.JavaPairRDD;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds pairs of images whose perceptual hashes differ in at most {@code d} bits without comparing all pairs:
 * the 63 informative bits are cut into {@code d + 1} bands, and by the pigeonhole principle two hashes that
 * close agree exactly on at least one band. Spark groups the images by (band, band value); only images that
 * share a bucket are compared in full.
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
        int partitions = Math.max(1, hashes.context().defaultParallelism() * 2);
        return hashes.distinct()
                .flatMapToPair(h -> {
                    List<Tuple2<Long, Tuple2<String, Long>>> out = new ArrayList<>(bands);
                    for (int b = 0; b < bands; b++) {
                        out.add(new Tuple2<>(bucket(h._2(), b, bands), h));
                    }
                    return out.iterator();
                })
                .groupByKey(partitions)
                .flatMap(bucket -> {
                    List<Tuple2<String, Long>> members = new ArrayList<>();
                    bucket._2().forEach(members::add);
                    List<String> pairs = new ArrayList<>();
                    for (int i = 0; i < members.size(); i++) {
                        for (int j = i + 1; j < members.size(); j++) {
                            Tuple2<String, Long> a = members.get(i), c = members.get(j);
                            if (!a._1().equals(c._1()) && PerceptualHash.distance(a._2(), c._2()) <= maxDistance) {
                                pairs.add(a._1().compareTo(c._1()) < 0 ? a._1() + "|" + c._1() : c._1() + "|" + a._1());
                            }
                        }
                    }
                    return pairs.iterator();
                })
                .distinct(partitions)
                .map(p -> p.split("\\|"))
                .collect();
    }

    /** The bucket of band {@code b}: the band's index in the top 6 bits, its bit values below. */
    static long bucket(long hash, int b, int bands) {
        int lo = 1 + b * BITS / bands;
        int hi = 1 + (b + 1) * BITS / bands;
        return ((long) b << 57) | ((hash >>> lo) & ((1L << (hi - lo)) - 1));
    }
}
