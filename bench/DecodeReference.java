import org.busispark.ingest.ImageCodec;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The reference for bench/ingest.sh: how fast one thread can merely read and decode the same images with
 * ImageIO (no Spark, no hashing, no writing). Ingest's images/s per core divided by this is the share of raw
 * decode speed it keeps. It then compares, on the same bytes held in memory and on one thread, ImageIO's PNG
 * decoding with ImageCodec.decode (which takes GrayPng's fast path for 8-bit gray PNGs such as BUSI's); two
 * passes, the second is reported. Usage: java -cp CLASSPATH bench/DecodeReference.java FOLDER
 */
public class DecodeReference {
    public static void main(String[] args) throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(Path.of(args[0]))) {
            files = s.filter(p -> p.toString().endsWith(".png") && !p.getFileName().toString().contains("_mask")).toList();
        }
        for (Path p : files.subList(0, Math.min(50, files.size()))) { // warm-up
            ImageIO.read(p.toFile());
        }
        long start = System.nanoTime();
        long pixels = 0;
        for (Path p : files) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(p)));
            pixels += (long) img.getWidth() * img.getHeight();
        }
        double s = (System.nanoTime() - start) / 1e9;
        System.out.printf("reference: ImageIO read+decode, 1 thread: %d images in %.2f s = %.1f images/s (%.1f Mpx/s)%n",
                files.size(), s, files.size() / s, pixels / 1e6 / s);

        List<byte[]> bytes = new ArrayList<>();
        for (Path p : files) {
            bytes.add(Files.readAllBytes(p));
        }
        double imageIO = 0, fast = 0;
        for (int pass = 0; pass < 2; pass++) {
            long t0 = System.nanoTime();
            for (byte[] b : bytes) {
                pixels += ImageIO.read(new ByteArrayInputStream(b)).getWidth();
            }
            long t1 = System.nanoTime();
            for (byte[] b : bytes) {
                pixels += ImageCodec.decode(b, 1, Long.MAX_VALUE).width();
            }
            imageIO = (t1 - t0) / 1e9;
            fast = (System.nanoTime() - t1) / 1e9;
        }
        System.out.printf("decode from memory, 1 thread, pass 2 of 2: ImageIO %.1f images/s (%.2f ms/image), "
                        + "ImageCodec.decode %.1f images/s (%.2f ms/image), %.1fx%n", files.size() / imageIO,
                imageIO * 1e3 / files.size(), files.size() / fast, fast * 1e3 / files.size(), imageIO / fast);
    }
}
