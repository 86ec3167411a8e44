package org.busispark.ingest;

import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Fast path for the common input, a non-interlaced 8-bit grayscale PNG (every BUSI image and mask). Decoding
 * with ImageIO (about 2.6 ms per 500x600 BUSI image) was the largest Java cost of both ingest and score; this
 * inflates into a small buffer of rows and undoes the filters in plain loops, with none of ImageIO's streams,
 * rasters and listeners. It measured about 1.3x faster (bench/DecodeReference.java): zlib and the serial Paeth
 * filter, which every decoder pays, are most of what is left.
 *
 * <p>It gives exactly what {@link ImageCodec}'s ImageIO path gives. That reader (metadata ignored) skips every
 * chunk before the first IDAT except tRNS, which turns gray into gray+alpha, so a tRNS is left to ImageIO;
 * it ignores CRCs and decodes the run of consecutive IDAT chunks, nothing after it. Anything else or anything
 * odd (other types, interlace, bad lengths, inflater errors, a zlib stream that does not end exactly after the
 * last row) returns null, and the caller falls back to ImageIO, which keeps every rejection as it was.
 */
final class GrayPng {
    private static final int IDAT = 0x49444154, TRNS = 0x74524e53;

    private final byte[] png;
    private final Inflater inflater = new Inflater();
    /** Offset of the IDAT chunk whose data the inflater is consuming. */
    private int chunk;

    private GrayPng(byte[] png, int firstIdat) {
        this.png = png;
        this.chunk = firstIdat;
        inflater.setInput(png, firstIdat + 8, readInt(png, firstIdat));
    }

    /**
     * The decoded image, or null where ImageIO must decide: not a plain 8-bit gray PNG, outside the size limits
     * (so ImageIO words the rejection), or anything unusual.
     */
    static DecodedImage decode(byte[] png, int minSide, long maxPixels) {
        // ImageCodec.isGray8Png checks the signature's start, "IHDR", bit depth 8 and colour type 0.
        if (!ImageCodec.isGray8Png(png) || png.length < 45 || png[4] != '\r' || png[5] != '\n' || png[6] != 0x1a
                || png[7] != '\n' || readInt(png, 8) != 13 || png[26] != 0 || png[27] != 0 || png[28] != 0) {
            return null; // compression and filter method 0, no interlace
        }
        int width = readInt(png, 16);
        int height = readInt(png, 20);
        long pixels = (long) width * height;
        if (width <= 0 || height <= 0 || pixels > maxPixels || Math.min(width, height) < minSide
                || pixels > Integer.MAX_VALUE - 2) {
            return null;
        }
        int pos = 33; // signature, IHDR length, type, 13 bytes of data and CRC
        while (true) {
            if (pos > png.length - 8 || readInt(png, pos) < 0 || readInt(png, pos + 4) == TRNS) {
                return null;
            }
            if (readInt(png, pos + 4) == IDAT) {
                break;
            }
            long next = pos + 12L + readInt(png, pos); // length, type, data, CRC
            if (next > png.length) {
                return null;
            }
            pos = (int) next;
        }
        if (pos + 12L + readInt(png, pos) > png.length) {
            return null;
        }
        GrayPng reader = new GrayPng(png, pos);
        try {
            byte[] gray = reader.pixels(width, height);
            return gray == null ? null : new DecodedImage(width, height, gray, 1, "png");
        } catch (DataFormatException e) {
            return null;
        } catch (OutOfMemoryError e) {
            return null; // ImageIO needs more memory still, and fails as it always has
        } finally {
            reader.inflater.end();
        }
    }

    private byte[] pixels(int width, int height) throws DataFormatException {
        byte[] gray = new byte[width * height];
        int stride = 1 + width; // filter type, then the filtered row
        // Rows are inflated up to 64 KiB at a time: one row per call was about 0.2 ms slower per BUSI image
        // (zlib's fast loop wants room for 258 bytes of output, so it ran much of each row in its slow one).
        int batch = Math.min(height, Math.max(1, 65536 / stride));
        byte[] rows = new byte[batch * stride];
        byte[] zeros = new byte[width]; // the row "above" the first
        for (int y = 0; y < height; y++) {
            int k = y % batch;
            if (k == 0 && !inflate(rows, Math.min(batch, height - y) * stride)) {
                return null;
            }
            int in = k * stride + 1;
            int out = y * width;
            byte[] prior = y == 0 ? zeros : gray;
            int up = y == 0 ? 0 : out - width;
            if (rows[in - 1] == 4 && k + 1 < batch && y + 1 < height && rows[in + stride - 1] == 4) {
                paeth2(rows, in, in + stride, gray, out, prior, up, width); // the next row is inflated too
                y++;
                continue;
            }
            switch (rows[in - 1]) {
                case 0 -> System.arraycopy(rows, in, gray, out, width);
                case 1 -> sub(rows, in, gray, out, width);
                case 2 -> up(rows, in, gray, out, prior, up, width);
                case 3 -> average(rows, in, gray, out, prior, up, width);
                case 4 -> paeth(rows, in, gray, out, prior, up, width);
                default -> {
                    return null;
                }
            }
        }
        // The stream must end here: ImageIO reads ahead and would fail on a bad checksum or on more data.
        return !inflate(rows, 1) && inflater.finished() ? gray : null;
    }

    // Each filter turns width filtered bytes at row[in] into pixels at out[o], given the row above at prior[p].

    private static void sub(byte[] row, int in, byte[] out, int o, int width) {
        int left = 0;
        for (int i = 0; i < width; i++) {
            left = (row[in + i] + left) & 0xff;
            out[o + i] = (byte) left;
        }
    }

    private static void up(byte[] row, int in, byte[] out, int o, byte[] prior, int p, int width) {
        for (int i = 0; i < width; i++) {
            out[o + i] = (byte) (row[in + i] + prior[p + i]);
        }
    }

    private static void average(byte[] row, int in, byte[] out, int o, byte[] prior, int p, int width) {
        int left = 0;
        for (int i = 0; i < width; i++) {
            left = (row[in + i] + ((left + (prior[p + i] & 0xff)) >> 1)) & 0xff;
            out[o + i] = (byte) left;
        }
    }

    private static void paeth(byte[] row, int in, byte[] out, int o, byte[] prior, int p, int width) {
        int a = 0, c = 0; // left and upper left; b is above
        for (int i = 0; i < width; i++) {
            int b = prior[p + i] & 0xff;
            a = (row[in + i] + predict(a, b, c)) & 0xff;
            out[o + i] = (byte) a;
            c = b;
        }
    }

    /**
     * Two Paeth rows at once, the second one pixel behind the first, whose pixels it takes from registers. Each
     * pixel waits for its left neighbour, so one row is a chain of dependent steps that leaves most of the core
     * idle; two independent chains side by side undo rows about 1.3x faster (BUSI's rows are nearly all Paeth).
     */
    private static void paeth2(byte[] row, int in0, int in1, byte[] out, int o0, byte[] prior, int p, int width) {
        int o1 = o0 + width;
        int c0 = prior[p] & 0xff;
        int a0 = (row[in0] + predict(0, c0, 0)) & 0xff;
        out[o0] = (byte) a0;
        int a1 = 0, b1 = a0, c1 = 0; // the second row's left, above and upper left for its pixel i - 1
        for (int i = 1; i < width; i++) {
            int b0 = prior[p + i] & 0xff;
            int next = (row[in0 + i] + predict(a0, b0, c0)) & 0xff;
            out[o0 + i] = (byte) next;
            c0 = b0;
            a1 = (row[in1 + i - 1] + predict(a1, b1, c1)) & 0xff;
            out[o1 + i - 1] = (byte) a1;
            c1 = b1;
            b1 = next;
            a0 = next;
        }
        out[o1 + width - 1] = (byte) (row[in1 + width - 1] + predict(a1, b1, c1));
    }

    /**
     * Paeth's predictor of a pixel from its left (a), above (b) and upper-left (c) neighbours: pa <= pb && pa <= pc
     * ? a : pb <= pc ? b : c, with masks instead of branches: ultrasound speckle defeats branch prediction (about
     * 0.2 ms faster per BUSI image).
     */
    private static int predict(int a, int b, int c) {
        int pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        int cNotB = (pc - pb) >> 31;
        int bOrC = b ^ ((b ^ c) & cNotB);
        int notA = (Math.min(pb, pc) - pa) >> 31;
        return a ^ ((a ^ bOrC) & notA);
    }

    /** Fills dst[0, n) from the zlib stream, moving on to the next IDAT chunk as needed; false if it ends first. */
    private boolean inflate(byte[] dst, int n) throws DataFormatException {
        int done = 0;
        while (done < n) {
            int got = inflater.inflate(dst, done, n - done);
            done += got;
            if (got == 0 && (inflater.finished() || inflater.needsDictionary() || !inflater.needsInput()
                    || !nextChunk())) {
                return false;
            }
        }
        return true;
    }

    /** Feeds the inflater the next chunk if it is an IDAT lying wholly inside the file. */
    private boolean nextChunk() {
        int next = chunk + 12 + readInt(png, chunk);
        if (next > png.length - 12 || readInt(png, next + 4) != IDAT) {
            return false;
        }
        int length = readInt(png, next);
        if (length < 0 || next + 12L + length > png.length) {
            return false;
        }
        chunk = next;
        inflater.setInput(png, next + 8, length);
        return true;
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }
}
