package org.busispark.augment;

/** Maps output pixel coordinates to source coordinates: x' = a·x + b·y + c, y' = d·x + e·y + f. */
record Affine(double a, double b, double c, double d, double e, double f) {

    void apply(double x, double y, double[] out) {
        out[0] = a * x + b * y + c;
        out[1] = d * x + e * y + f;
    }

    /** The whole source stretched onto the size×size output. */
    static Affine stretch(int srcWidth, int srcHeight, int size) {
        return new Affine((double) srcWidth / size, 0, 0, 0, (double) srcHeight / size, 0);
    }

    /**
     * A crop of {@code cropW×cropH} source pixels centred at (cx, cy), rotated by {@code radians} about its
     * centre and optionally mirrored, sampled onto size×size.
     */
    static Affine crop(double cx, double cy, double cropW, double cropH, double radians,
                       boolean flipH, boolean flipV, int size) {
        double sx = cropW / size * (flipH ? -1 : 1);
        double sy = cropH / size * (flipV ? -1 : 1);
        double cos = Math.cos(radians), sin = Math.sin(radians);
        // Output centre goes to (cx, cy); output offsets are scaled, then rotated.
        double a = cos * sx, b = -sin * sy, d = sin * sx, e = cos * sy;
        double half = size / 2.0;
        return new Affine(a, b, cx - a * half - b * half, d, e, cy - d * half - e * half);
    }
}
