package org.busispark.ingest;

import org.busispark.config.BusiConfig;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Assigns a split from a hash of (seed, group key) alone, so the answer never depends on partitioning,
 * executor count or which other images exist: adding images later never moves an old one.
 */
public final class SplitAssigner {
    public static final String TRAIN = "train";
    public static final String VALIDATION = "validation";
    public static final String TEST = "test";

    private SplitAssigner() {}

    public static String assign(long seed, String groupKey, BusiConfig.Split split) {
        double u = unitHash(seed, groupKey);
        if (u < split.train()) {
            return TRAIN;
        }
        return u < split.train() + split.validation() ? VALIDATION : TEST;
    }

    /** A uniform number in [0, 1) from the first 53 bits of SHA-256(seed:key). */
    static double unitHash(long seed, String key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((seed + ":" + key).getBytes(StandardCharsets.UTF_8));
            long bits = 0;
            for (int i = 0; i < 8; i++) {
                bits = (bits << 8) | (d[i] & 0xff);
            }
            return (bits >>> 11) * 0x1.0p-53;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
