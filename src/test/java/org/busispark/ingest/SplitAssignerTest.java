package org.busispark.ingest;

import org.busispark.config.BusiConfig;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.busispark.ingest.SplitAssigner.*;
import static org.junit.jupiter.api.Assertions.*;

class SplitAssignerTest {
    private static final int N = 20_000;

    private static String key(int i) {
        return "file:/data/busi/benign/benign (" + i + ")";
    }

    private static Map<String, Integer> counts(long seed, BusiConfig.Split split) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < N; i++) {
            counts.merge(assign(seed, key(i), split), 1, Integer::sum);
        }
        return counts;
    }

    private static void assertFractions(BusiConfig.Split split) {
        Map<String, Integer> c = counts(42, split);
        assertEquals(N, c.values().stream().mapToInt(Integer::intValue).sum());
        assertEquals(split.train(), c.getOrDefault(TRAIN, 0) / (double) N, 0.02);
        assertEquals(split.validation(), c.getOrDefault(VALIDATION, 0) / (double) N, 0.02);
        assertEquals(split.test(), c.getOrDefault(TEST, 0) / (double) N, 0.02);
    }

    @Test
    void deterministic() {
        BusiConfig.Split split = new BusiConfig.Split(0.7, 0.15, 0.15);
        for (int i = 0; i < 100; i++) {
            assertEquals(assign(42, key(i), split), assign(42, key(i), split));
        }
    }

    @Test
    void fractionsFollowConfig() {
        assertFractions(new BusiConfig.Split(0.7, 0.15, 0.15));
        assertFractions(new BusiConfig.Split(0.5, 0.3, 0.2));
    }

    @Test
    void allThreeSplitsAppear() {
        assertEquals(3, counts(42, new BusiConfig.Split(0.7, 0.15, 0.15)).size());
    }

    @Test
    void emptySplitNeverAppears() {
        Map<String, Integer> c = counts(42, new BusiConfig.Split(0.8, 0.2, 0));
        assertFalse(c.containsKey(TEST));
        assertEquals(0.2, c.get(VALIDATION) / (double) N, 0.02);
    }

    @Test
    void seedChangesAssignmentsLikeAnIndependentDraw() {
        BusiConfig.Split split = new BusiConfig.Split(0.7, 0.15, 0.15);
        int moved = 0;
        for (int i = 0; i < N; i++) {
            if (!assign(42, key(i), split).equals(assign(43, key(i), split))) {
                moved++;
            }
        }
        // Two independent draws disagree with probability 1 - (0.7² + 0.15² + 0.15²) = 0.465.
        assertEquals(0.465, moved / (double) N, 0.02);
    }
}
