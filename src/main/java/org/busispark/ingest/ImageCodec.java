package org.busispark.ingest;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;

/**
 * Decodes any ImageIO-readable file (PNG, JPEG incl. CMYK, BMP, TIFF, GIF through TwelveMonkeys) to 8-bit
 * grayscale, checking the declared size in the header before decoding so a decompression bomb is refused
 * without allocating it. Non-interlaced 8-bit gray PNGs (all of BUSI) take {@link GrayPng}'s faster path, with
 * the same result. Pure: no Spark, no I/O beyond the given bytes.
 */
public final class ImageCodec {
    static {
        ImageIO.setUseCache(false);
        ImageIO.scanForPlugins();
    }

    private ImageCodec() {}

    public static DecodedImage decode(byte[] bytes, int minSide, long maxPixels) throws Rejection {
        if (bytes == null || bytes.length == 0) {
            throw new Rejection(Rejection.Reason.EMPTY_FILE, "file has 0 bytes");
        }
        DecodedImage fast = GrayPng.decode(bytes, minSide, maxPixels);
        return fast != null ? fast : decodeWithImageIO(bytes, minSide, maxPixels);
    }

    /** The general path: any format, and every rejection; {@link GrayPng} leaves everything unusual to it. */
    static DecodedImage decodeWithImageIO(byte[] bytes, int minSide, long maxPixels) throws Rejection {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new Rejection(Rejection.Reason.NOT_AN_IMAGE, "no image decoder recognises the content");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                String format = reader.getFormatName().toLowerCase(java.util.Locale.ROOT);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if ((long) w * h > maxPixels) {
                    throw new Rejection(Rejection.Reason.TOO_LARGE,
                            "declared " + w + "x" + h + " exceeds " + maxPixels + " pixels");
                }
                if (Math.min(w, h) < minSide) {
                    throw new Rejection(Rejection.Reason.TOO_SMALL, w + "x" + h + " is below " + minSide + " px");
                }
                BufferedImage image = reader.read(0);
                return new DecodedImage(w, h, toGray(image), image.getColorModel().getNumComponents(), format);
            } finally {
                reader.dispose();
            }
        } catch (Rejection r) {
            throw r;
        } catch (IOException | RuntimeException e) {
            // Truncated streams, bad CRCs, unsupported sub-formats: all mean the file cannot be trusted.
            throw new Rejection(Rejection.Reason.CORRUPT_IMAGE, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /**
     * Gray samples are rescaled from their bit depth directly (going through sRGB would alter 16-bit and
     * linear-gray images); colour and palette images use ITU-R BT.601 luma.
     */
    static byte[] toGray(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] out = new byte[w * h];
        Raster raster = image.getRaster();
        boolean palette = image.getColorModel() instanceof IndexColorModel;
        if (image.getType() == BufferedImage.TYPE_BYTE_GRAY
                && raster.getDataBuffer() instanceof DataBufferByte buffer
                && raster.getSampleModel() instanceof java.awt.image.ComponentSampleModel sm
                && sm.getScanlineStride() == w && sm.getPixelStride() == 1 && buffer.getOffset() == 0
                && raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0
                && buffer.getData().length == w * h) {
            // The common case (8-bit gray PNGs such as BUSI's, and every mask): the pixels already are the output.
            System.arraycopy(buffer.getData(), 0, out, 0, out.length);
            return out;
        }
        if (!palette && image.getColorModel().getNumColorComponents() == 1) {
            int bits = image.getColorModel().getComponentSize(0);
            double scale = 255.0 / ((1L << bits) - 1);
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    out[y * w + x] = (byte) Math.min(255, (int) Math.round(row[x] * scale));
                }
            }
            return out;
        }
        int[] rgb = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, rgb, 0, w);
            for (int x = 0; x < w; x++) {
                int p = rgb[x];
                double luma = 0.299 * ((p >> 16) & 0xff) + 0.587 * ((p >> 8) & 0xff) + 0.114 * (p & 0xff);
                out[y * w + x] = (byte) Math.min(255, (int) Math.round(luma));
            }
        }
        return out;
    }

    /**
     * True when the bytes already are what {@link #encodePng} would produce in substance: a PNG whose header
     * declares 8-bit grayscale. Ingest then stores the original bytes instead of re-encoding (the slowest step).
     */
    public static boolean isGray8Png(byte[] bytes) {
        // Signature (8 bytes), IHDR length and type (8), width and height (8), then bit depth and colour type.
        return bytes != null && bytes.length > 26 && (bytes[0] & 0xff) == 0x89 && bytes[1] == 'P' && bytes[2] == 'N'
                && bytes[3] == 'G' && bytes[12] == 'I' && bytes[13] == 'H' && bytes[14] == 'D' && bytes[15] == 'R'
                && bytes[24] == 8 && bytes[25] == 0;
    }

    /** Lossless 8-bit grayscale PNG of the given pixels. */
    public static byte[] encodePng(int width, int height, byte[] gray) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] target = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        System.arraycopy(gray, 0, target, 0, gray.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream(gray.length / 2 + 1024);
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Decodes a PNG written by {@link #encodePng}. */
    public static DecodedImage decodePng(byte[] png) {
        DecodedImage fast = GrayPng.decode(png, 1, Long.MAX_VALUE);
        if (fast != null) {
            return fast;
        }
        try {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            if (image == null) {
                throw new IllegalArgumentException("not a PNG");
            }
            return new DecodedImage(image.getWidth(), image.getHeight(), toGray(image), 1, "png");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Content id: SHA-256 over the decoded size and pixels, so re-encodings of the same image share it. */
    public static String contentHash(DecodedImage image) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(java.nio.ByteBuffer.allocate(8).putInt(image.width()).putInt(image.height()).array());
            sha.update(image.gray());
            return HexFormat.of().formatHex(sha.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
