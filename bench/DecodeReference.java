import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The reference for bench/ingest.sh: how fast one thread can merely read and decode the same images with
 * ImageIO (no Spark, no hashing, no writing). Ingest's images/s per core divided by this is the share of raw
 * decode speed it keeps. Usage: java -cp CLASSPATH bench/DecodeReference.java FOLDER
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
            BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(Files.readAllBytes(p)));
            pixels += (long) img.getWidth() * img.getHeight();
        }
        double s = (System.nanoTime() - start) / 1e9;
        System.out.printf("reference: ImageIO read+decode, 1 thread: %d images in %.2f s = %.1f images/s (%.1f Mpx/s)%n",
                files.size(), s, files.size() / s, pixels / 1e6 / s);
    }
}
