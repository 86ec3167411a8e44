package org.busispark.ingest;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.*;

class ImageCodecTest {
    private static final int W = 8, H = 6;
    /** Opaque colours used by the colour tests, with their BT.601 luma rounded by hand. */
    private static final int[] RGB = {0xff0000, 0x00ff00, 0x0000ff, 0xffffff, 0x000000, 0x808080, 0x102030};
    private static final int[] LUMA = {76, 150, 29, 255, 0, 128, 29};
    // 0.299*255=76.245, 0.587*255=149.685, 0.114*255=29.07, 128, 0.299*16+0.587*32+0.114*48=4.784+18.784+5.472=29.04

    static byte[] write(BufferedImage image, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            assertTrue(ImageIO.write(image, format, out), "no ImageIO writer for " + format);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toByteArray();
    }

    static DecodedImage decode(byte[] bytes) {
        try {
            return ImageCodec.decode(bytes, 1, 1_000_000);
        } catch (Rejection r) {
            throw new AssertionError("rejected: " + r.reason() + " " + r.detail(), r);
        }
    }

    static Rejection.Reason rejection(byte[] bytes, int minSide, long maxPixels) {
        return assertThrows(Rejection.class, () -> ImageCodec.decode(bytes, minSide, maxPixels)).reason();
    }

    /** An 8-bit gray image whose value at (x, y) is value(x, y). */
    static BufferedImage gray(int w, int h, java.util.function.IntBinaryOperator value) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.setSample(x, y, 0, value.applyAsInt(x, y));
            }
        }
        return img;
    }

    static byte[] pixels(int w, int h, java.util.function.IntBinaryOperator value) {
        byte[] out = new byte[w * h];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) value.applyAsInt(i % w, i / w);
        }
        return out;
    }

    private static int ramp(int x, int y) {
        return (x * 31 + y * 7) & 0xff;
    }

    private static void assertDecoded(DecodedImage d, int w, int h, String format, int channels) {
        assertEquals(w, d.width());
        assertEquals(h, d.height());
        assertEquals(format, d.format());
        assertEquals(channels, d.channels());
    }

    /** Colour image whose pixel i (row-major) is RGB[i % RGB.length]; expected gray is LUMA[i % n]. */
    private static void fillColours(BufferedImage img) {
        for (int i = 0; i < W * H; i++) {
            img.setRGB(i % W, i / W, 0xff000000 | RGB[i % RGB.length]);
        }
    }

    private static void assertLumas(DecodedImage d) {
        for (int i = 0; i < W * H; i++) {
            assertEquals(LUMA[i % LUMA.length], d.gray()[i] & 0xff, "pixel " + i);
        }
    }

    @Test
    void gray8PngIsExact() {
        DecodedImage d = decode(write(gray(W, H, ImageCodecTest::ramp), "png"));
        assertDecoded(d, W, H, "png", 1);
        assertArrayEquals(pixels(W, H, ImageCodecTest::ramp), d.gray());
    }

    @Test
    void gray16PngIsRescaled() {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_USHORT_GRAY);
        // 257 * k is exactly k on the 8-bit scale (65535 = 257 * 255).
        int[] samples = {65535, 32896, 0, 257, 257 * 200, 65535 - 100};
        int[] expected = {255, 128, 0, 1, 200, 255};
        for (int i = 0; i < W * H; i++) {
            img.getRaster().setSample(i % W, i / W, 0, samples[i % samples.length]);
        }
        DecodedImage d = decode(write(img, "png"));
        assertDecoded(d, W, H, "png", 1);
        for (int i = 0; i < W * H; i++) {
            assertEquals(expected[i % expected.length], d.gray()[i] & 0xff, "pixel " + i);
        }
    }

    @Test
    void binaryPngIsBlackAndWhite() {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_BINARY);
        for (int i = 0; i < W * H; i++) {
            img.getRaster().setSample(i % W, i / W, 0, i % 3 == 0 ? 1 : 0);
        }
        DecodedImage d = decode(write(img, "png"));
        for (int i = 0; i < W * H; i++) {
            assertEquals(i % 3 == 0 ? 255 : 0, d.gray()[i] & 0xff, "pixel " + i);
        }
    }

    @Test
    void rgbPngUsesLuma() {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        fillColours(img);
        DecodedImage d = decode(write(img, "png"));
        assertDecoded(d, W, H, "png", 3);
        assertLumas(d);
    }

    @Test
    void rgbaPngUsesLumaAndRecordsFourChannels() {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_ARGB);
        fillColours(img);
        DecodedImage d = decode(write(img, "png"));
        assertDecoded(d, W, H, "png", 4);
        assertLumas(d);
    }

    private static BufferedImage paletteImage() {
        byte[] r = new byte[RGB.length], g = new byte[RGB.length], b = new byte[RGB.length];
        for (int i = 0; i < RGB.length; i++) {
            r[i] = (byte) (RGB[i] >> 16);
            g[i] = (byte) (RGB[i] >> 8);
            b[i] = (byte) RGB[i];
        }
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(8, RGB.length, r, g, b));
        for (int i = 0; i < W * H; i++) {
            img.getRaster().setSample(i % W, i / W, 0, i % RGB.length);
        }
        return img;
    }

    @Test
    void palettePngUsesLumaOfPaletteColours() {
        DecodedImage d = decode(write(paletteImage(), "png"));
        assertEquals("png", d.format());
        assertLumas(d);
    }

    @Test
    void gifUsesLumaOfPaletteColours() {
        DecodedImage d = decode(write(paletteImage(), "gif"));
        assertEquals("gif", d.format());
        assertLumas(d);
    }

    @Test
    void bmpRgbUsesLuma() {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_3BYTE_BGR);
        fillColours(img);
        DecodedImage d = decode(write(img, "bmp"));
        assertDecoded(d, W, H, "bmp", 3);
        assertLumas(d);
    }

    @Test
    void tiffGrayIsExact() {
        DecodedImage d = decode(write(gray(W, H, ImageCodecTest::ramp), "tiff"));
        assertEquals(W, d.width());
        assertEquals(H, d.height());
        assertTrue(d.format().startsWith("tif"), d.format());
        assertEquals(1, d.channels());
        assertArrayEquals(pixels(W, H, ImageCodecTest::ramp), d.gray());
    }

    @Test
    void jpegIsCloseToOriginal() {
        int w = 40, h = 24;
        java.util.function.IntBinaryOperator smooth = (x, y) -> 40 + x * 3 + y * 2;
        DecodedImage d = decode(write(gray(w, h, smooth), "jpeg"));
        assertDecoded(d, w, h, "jpeg", 1);
        byte[] expected = pixels(w, h, smooth);
        double sumError = 0;
        for (int i = 0; i < expected.length; i++) {
            int err = Math.abs((expected[i] & 0xff) - (d.gray()[i] & 0xff));
            assertTrue(err <= 16, "pixel " + i + " off by " + err);
            sumError += err;
        }
        assertTrue(sumError / expected.length < 3, "mean error " + sumError / expected.length);
    }

    @Test
    void emptyFile() {
        assertEquals(Rejection.Reason.EMPTY_FILE, rejection(new byte[0], 1, 1000));
        assertEquals(Rejection.Reason.EMPTY_FILE, rejection(null, 1, 1000));
    }

    @Test
    void randomBytesAndTextAreNotImages() {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        assertEquals(Rejection.Reason.NOT_AN_IMAGE, rejection(noise, 1, 1000));
        assertEquals(Rejection.Reason.NOT_AN_IMAGE, rejection("hello".getBytes(StandardCharsets.US_ASCII), 1, 1000));
    }

    static byte[] noisePng(int side) {
        Random rnd = new Random(3);
        return write(gray(side, side, (x, y) -> rnd.nextInt(256)), "png");
    }

    @Test
    void truncatedPngIsCorrupt() {
        byte[] png = noisePng(64);
        assertEquals(Rejection.Reason.CORRUPT_IMAGE, rejection(Arrays.copyOf(png, png.length / 2), 1, 1_000_000));
    }

    @Test
    void smallImageIsTooSmall() {
        byte[] png = write(gray(40, 20, ImageCodecTest::ramp), "png");
        assertEquals(Rejection.Reason.TOO_SMALL, rejection(png, 32, 1_000_000));
        assertEquals(40, assertDoesNotThrow(() -> ImageCodec.decode(png, 20, 1_000_000)).width());
    }

    @Test
    void pixelLimitIsInclusive() {
        byte[] png = write(gray(40, 20, ImageCodecTest::ramp), "png");
        assertDoesNotThrow(() -> ImageCodec.decode(png, 1, 800));
        assertEquals(Rejection.Reason.TOO_LARGE, rejection(png, 1, 799));
    }

    private static void chunk(ByteBuffer out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.putInt(data.length).put(t).put(data).putInt((int) crc.getValue());
    }

    /** A PNG whose header declares 100000x100000 8-bit gray, followed by a few bytes of IDAT: a decompression bomb. */
    static byte[] bombPng() {
        ByteBuffer out = ByteBuffer.allocate(200);
        out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(100_000).putInt(100_000)
                .put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0).array());
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 1, 2, 3, 4, 5, 6});
        return Arrays.copyOf(out.array(), out.position());
    }

    @Test
    void declaredHugeImageIsRefusedBeforeDecoding() {
        Rejection.Reason reason = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> rejection(bombPng(), 32, 40_000_000));
        assertEquals(Rejection.Reason.TOO_LARGE, reason);
    }

    @Test
    void pngRoundTrip() {
        Random rnd = new Random(11);
        byte[] gray = new byte[13 * 7];
        rnd.nextBytes(gray);
        DecodedImage d = ImageCodec.decodePng(ImageCodec.encodePng(13, 7, gray));
        assertEquals(13, d.width());
        assertEquals(7, d.height());
        assertArrayEquals(gray, d.gray());
    }

    @Test
    void contentHashDependsOnPixelsNotEncoding() {
        BufferedImage img = gray(W, H, ImageCodecTest::ramp);
        String fromPng = ImageCodec.contentHash(decode(write(img, "png")));
        String fromBmp = ImageCodec.contentHash(decode(write(img, "bmp")));
        assertEquals(fromPng, fromBmp);

        img.getRaster().setSample(3, 2, 0, img.getRaster().getSample(3, 2, 0) ^ 1);
        assertNotEquals(fromPng, ImageCodec.contentHash(decode(write(img, "png"))));
    }

    @Test
    void contentHashDependsOnShape() {
        byte[] px = new byte[6];
        String a = ImageCodec.contentHash(new DecodedImage(2, 3, px, 1, "png"));
        String b = ImageCodec.contentHash(new DecodedImage(3, 2, px, 1, "png"));
        assertNotEquals(a, b);
    }

    /** CMYK JPEGs (print workflows, some PACS exports) decode through TwelveMonkeys: K=0 is white, K=200 dark. */
    @Test
    void cmykJpegDecodesToGray() throws Exception {
        java.awt.color.ColorSpace cmyk = com.twelvemonkeys.imageio.color.ColorSpaces.getColorSpace(
                com.twelvemonkeys.imageio.color.ColorSpaces.CS_GENERIC_CMYK);
        java.awt.image.ColorModel cm = new java.awt.image.ComponentColorModel(cmyk, false, false,
                java.awt.Transparency.OPAQUE, java.awt.image.DataBuffer.TYPE_BYTE);
        java.awt.image.WritableRaster raster = cm.createCompatibleWritableRaster(64, 48);
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 64; x++) {
                raster.setSample(x, y, 3, x < 32 ? 0 : 200);
            }
        }
        java.io.ByteArrayOutputStream jpg = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageWriter writer = javax.imageio.ImageIO.getImageWritersByFormatName("jpeg").next();
        try (var out = javax.imageio.ImageIO.createImageOutputStream(jpg)) {
            writer.setOutput(out);
            writer.write(new BufferedImage(cm, raster, false, null));
        }
        DecodedImage d = ImageCodec.decode(jpg.toByteArray(), 1, 1L << 30);
        assertEquals("jpeg", d.format());
        assertEquals(255, d.gray()[10 * 64 + 5] & 0xff, 3);
        assertEquals(255 * (255 - 200) / 255.0, d.gray()[10 * 64 + 50] & 0xff, 6);
    }
}
