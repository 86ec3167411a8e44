package org.busispark.ingest;

/**
 * 64-bit DCT perceptual hash (the "pHash" of Zauner 2010): the image is area-averaged to 32×32, transformed
 * with a 2-D DCT-II, and each of the 8×8 lowest-frequency coefficients (DC excluded) is compared with their
 * median (so bit 0 is always clear and 31 of the other 63 bits are set). Near-identical images — re-encodings, small crops, different annotations burned in — differ in few
 * bits, so the Hamming distance between hashes measures visual similarity.
 */
public final class PerceptualHash {
    private static final int N = 32;
    private static final int K = 8;
    private static final double[][] COS = new double[K][N];

    static {
        for (int u = 0; u < K; u++) {
            for (int x = 0; x < N; x++) {
                COS[u][x] = Math.cos((2 * x + 1) * u * Math.PI / (2 * N));
            }
        }
    }

    private PerceptualHash() {}

    public static long of(DecodedImage image) {
        double[] small = areaResize(image);
        // Separable DCT, keeping only the K lowest frequencies in each direction.
        double[][] rows = new double[N][K];
        for (int y = 0; y < N; y++) {
            for (int u = 0; u < K; u++) {
                double s = 0;
                for (int x = 0; x < N; x++) {
                    s += small[y * N + x] * COS[u][x];
                }
                rows[y][u] = s;
            }
        }
        double[] coeffs = new double[K * K];
        for (int v = 0; v < K; v++) {
            for (int u = 0; u < K; u++) {
                double s = 0;
                for (int y = 0; y < N; y++) {
                    s += rows[y][u] * COS[v][y];
                }
                coeffs[v * K + u] = s;
            }
        }
        double[] ac = java.util.Arrays.copyOfRange(coeffs, 1, coeffs.length);
        java.util.Arrays.sort(ac);
        double median = ac[ac.length / 2];
        long hash = 0;
        for (int i = 0; i < coeffs.length; i++) {
            if (i > 0 && coeffs[i] > median) {
                hash |= 1L << i;
            }
        }
        return hash;
    }

    public static int distance(long a, long b) {
        return Long.bitCount(a ^ b);
    }

    /** Mean of each source box covering one of the N×N target cells (handles any size, up- or downscaling). */
    private static double[] areaResize(DecodedImage image) {
        int w = image.width(), h = image.height();
        byte[] px = image.gray();
        double[] out = new double[N * N];
        for (int ty = 0; ty < N; ty++) {
            int y0 = ty * h / N, y1 = Math.max(y0 + 1, (ty + 1) * h / N);
            for (int tx = 0; tx < N; tx++) {
                int x0 = tx * w / N, x1 = Math.max(x0 + 1, (tx + 1) * w / N);
                long sum = 0;
                for (int y = y0; y < y1; y++) {
                    for (int x = x0; x < x1; x++) {
                        sum += px[y * w + x] & 0xff;
                    }
                }
                out[ty * N + tx] = (double) sum / ((long) (y1 - y0) * (x1 - x0));
            }
        }
        return out;
    }
}
