import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.*;
import java.util.*;
import java.util.regex.*;
import java.util.stream.*;

/**
 * Builds the committed BUSI sample (src/test/resources is too deep for users; it lives in data/sample):
 * N evenly spaced images per class from a BUSI download, downscaled so the long side is SIZE px, masks included.
 * Usage: java scripts/MakeSample.java BUSI_DIR OUT_DIR [N] [SIZE]
 */
public class MakeSample {
    private static final Pattern IMAGE = Pattern.compile("(.+ \\((\\d+)\\))\\.png");

    public static void main(String[] args) throws Exception {
        Path in = Path.of(args[0]), out = Path.of(args[1]);
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int size = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        for (String cls : List.of("benign", "malignant", "normal")) {
            List<Path> images;
            try (Stream<Path> s = Files.list(in.resolve(cls))) {
                images = s.filter(p -> IMAGE.matcher(p.getFileName().toString()).matches())
                        .sorted(Comparator.comparingInt(MakeSample::number)).collect(Collectors.toList());
            }
            Files.createDirectories(out.resolve(cls));
            for (int i = 0; i < n; i++) {
                Path img = images.get(i * images.size() / n);
                String stem = img.getFileName().toString().replace(".png", "");
                try (Stream<Path> s = Files.list(in.resolve(cls))) {
                    for (Path p : s.filter(p -> p.getFileName().toString().startsWith(stem)
                            && (p.equals(img) || p.getFileName().toString().startsWith(stem + "_mask"))).collect(Collectors.toList())) {
                        BufferedImage src = ImageIO.read(p.toFile());
                        ImageIO.write(downscale(src, size), "png", out.resolve(cls).resolve(p.getFileName()).toFile());
                    }
                }
            }
        }
    }

    private static int number(Path p) {
        Matcher m = IMAGE.matcher(p.getFileName().toString());
        m.matches();
        return Integer.parseInt(m.group(2));
    }

    private static BufferedImage downscale(BufferedImage src, int longSide) {
        double scale = (double) longSide / Math.max(src.getWidth(), src.getHeight());
        BufferedImage cur = src;
        // Halve repeatedly, then one bilinear step: avoids the aliasing of a single large bilinear reduction.
        while (cur.getWidth() * scale < cur.getWidth() / 2.0) {
            cur = resize(cur, cur.getWidth() / 2, cur.getHeight() / 2);
            scale *= 2;
        }
        return resize(cur, (int) Math.round(cur.getWidth() * scale), (int) Math.round(cur.getHeight() * scale));
    }

    private static BufferedImage resize(BufferedImage src, int w, int h) {
        BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = dst.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(src, 0, 0, w, h, null);
        g.dispose();
        return dst;
    }
}
