import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.*;
import java.util.*;
import java.util.regex.*;
import java.util.stream.*;

/**
 * Builds the committed samples (src/test/resources is too deep for users; they live in data/sample), downscaled so
 * the long side is SIZE px, masks included:
 * - BUSI: N evenly spaced images per class from a BUSI download.
 *   Usage: java scripts/MakeSample.java BUSI_DIR OUT_DIR [N] [SIZE]
 * - BUS-BRA: every image of N evenly spaced patients per (scanner, pathology) from the release, in its published
 *   layout (Images/, Masks/, bus_data.csv with the chosen rows as released, LICENSE.txt).
 *   Usage: java scripts/MakeSample.java --bus-bra BUSBRA_DIR OUT_DIR [N] [SIZE]
 */
public class MakeSample {
    private static final Pattern IMAGE = Pattern.compile("(.+ \\((\\d+)\\))\\.png");

    public static void main(String[] args) throws Exception {
        if (args[0].equals("--bus-bra")) {
            busBra(Path.of(args[1]), Path.of(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : 2,
                    args.length > 4 ? Integer.parseInt(args[4]) : 128);
            return;
        }
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

    private static void busBra(Path in, Path out, int perStratum, int size) throws Exception {
        List<String> lines = Files.readAllLines(in.resolve("bus_data.csv"));
        // Columns ID, Case, Histology, Pathology, BIRADS, Device, ...; quoted fields (BBOX) come after Device.
        Map<String, List<String>> casesByStratum = new TreeMap<>();
        Map<String, List<String>> rowsByCase = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", 7);
            rowsByCase.computeIfAbsent(f[1], k -> new ArrayList<>()).add(line);
            List<String> cases = casesByStratum.computeIfAbsent(f[5] + "|" + f[3], k -> new ArrayList<>());
            if (!cases.contains(f[1])) {
                cases.add(f[1]);
            }
        }
        Files.createDirectories(out.resolve("Images"));
        Files.createDirectories(out.resolve("Masks"));
        List<String> kept = new ArrayList<>(List.of(lines.get(0)));
        for (List<String> cases : casesByStratum.values()) {
            int n = Math.min(perStratum, cases.size());
            for (int i = 0; i < n; i++) {
                for (String row : rowsByCase.get(cases.get(i * cases.size() / n))) {
                    String id = row.substring(0, row.indexOf(','));
                    String mask = "mask_" + id.substring("bus_".length()) + ".png";
                    for (Path[] p : List.of(new Path[] {in.resolve("Images/" + id + ".png"), out.resolve("Images/" + id + ".png")},
                            new Path[] {in.resolve("Masks/" + mask), out.resolve("Masks/" + mask)})) {
                        ImageIO.write(downscale(ImageIO.read(p[0].toFile()), size), "png", p[1].toFile());
                    }
                    kept.add(row);
                }
            }
        }
        Files.write(out.resolve("bus_data.csv"), kept);
        Files.copy(in.resolve("LICENSE.txt"), out.resolve("LICENSE.txt"), StandardCopyOption.REPLACE_EXISTING);
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
