package org.busispark.ingest;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SplitsTest {
    @Test
    void unitHashIsDeterministicUniformAndSeeded() {
        int n = 20_000;
        int[] deciles = new int[10];
        int moved = 0;
        for (int i = 0; i < n; i++) {
            double u = Splits.unitHash(42, "img-" + i);
            assertTrue(u >= 0 && u < 1);
            assertEquals(u, Splits.unitHash(42, "img-" + i));
            deciles[(int) (u * 10)]++;
            if (Splits.unitHash(43, "img-" + i) != u) {
                moved++;
            }
        }
        for (int d : deciles) {
            assertEquals(n / 10.0, d, n * 0.01, "each decile holds about a tenth");
        }
        assertNotEquals(0, moved);
        assertEquals(n, moved, "a different seed gives different numbers");
    }
}
