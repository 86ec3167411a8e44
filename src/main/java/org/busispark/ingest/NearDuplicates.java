package org.busispark.ingest;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.shiftRightUnsigned;
import static org.apache.spark.sql.functions.struct;

/**
 * Finds pairs of images whose perceptual hashes differ in at most {@code d} bits without comparing all pairs:
 * the 63 informative bits are cut into {@code d + 1} bands, and by the pigeonhole principle two hashes that
 * close agree exactly on at least one band. Spark joins images on (band, band value); only those candidates
 * are compared in full.
 */
public final class NearDuplicates {
    private static final int BITS = 63; // bit 0 of a PerceptualHash is always clear

    private NearDuplicates() {}

    /**
     * @param hashes rows of ({@code image_id}, {@code phash})
     * @return distinct id pairs (smaller id first) within {@code maxDistance} bits, excluding self-pairs
     */
    public static List<String[]> edges(Dataset<Row> hashes, int maxDistance) {
        int bands = maxDistance + 1;
        Column[] keys = new Column[bands];
        for (int b = 0; b < bands; b++) {
            int lo = 1 + b * BITS / bands;
            int hi = 1 + (b + 1) * BITS / bands;
            keys[b] = struct(lit(b).as("band"),
                    shiftRightUnsigned(col("h"), lo).bitwiseAND(lit((1L << (hi - lo)) - 1)).as("key"));
        }
        // One pass over the hashes emits every (band, key) row; the small result is cached for both join sides.
        Dataset<Row> banded = hashes.select(col(ImageTable.IMAGE_ID).as("id"), col(ImageTable.PHASH).as("h"))
                .distinct()
                .select(col("id"), col("h"), explode(array(keys)).as("b"))
                .select(col("id"), col("h"), col("b.band").as("band"), col("b.key").as("key"))
                .cache();
        Dataset<Row> a = banded.as("a");
        Dataset<Row> b = banded.as("b");
        Dataset<Row> pairs = a.join(b, col("a.band").equalTo(col("b.band"))
                        .and(col("a.key").equalTo(col("b.key")))
                        .and(col("a.id").lt(col("b.id"))))
                .where(expr("bit_count(a.h ^ b.h)").leq(maxDistance))
                .select(col("a.id"), col("b.id"))
                .distinct();
        List<String[]> out = new ArrayList<>();
        for (Row r : pairs.collectAsList()) {
            out.add(new String[] {r.getString(0), r.getString(1)});
        }
        banded.unpersist();
        return out;
    }
}
