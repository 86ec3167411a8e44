package org.busispark.ingest;

/**
 * An image normalised to 8-bit grayscale, row-major, with what the original file was: its channel count and
 * format name. Arrays are owned by the instance; callers must not modify them.
 */
public record DecodedImage(int width, int height, byte[] gray, int channels, String format)
        implements java.io.Serializable {
    public DecodedImage {
        if (gray.length != width * height) {
            throw new IllegalArgumentException("Pixel count " + gray.length + " != " + width + "x" + height);
        }
    }
}
