package org.busispark.ingest;

import org.busispark.config.BusiConfig;
import org.busispark.model.Origin;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the files that share a group key (an image and its masks) into outcomes: accepted images with their
 * merged mask, or quarantine and skip records with a reason. Every input file yields exactly one outcome, so
 * counts reconcile. Pure logic, applied inside a Spark stage by {@link IngestJob}.
 */
public final class IngestRules {
    public enum Status { ACCEPTED, QUARANTINED, SKIPPED }

    /** Skip reason of a mask stored with its image. */
    static final String MASK_MERGED = "mask-merged";
    /** Skip reason of a mask whose image was quarantined: there is no row to store it with. */
    static final String MASK_OF_REJECTED = "mask-of-rejected-image";
    /** Skip reason of a mask where masks are not used (scoring, evaluation). */
    static final String MASK_UNUSED = "mask";

    /**
     * One listed file: where it is, what the layout says it is, its bytes (null with a readError), and its site,
     * patient and scanner as far as its source says.
     */
    public record SourceFile(String path, SourceLayout.Entry entry, byte[] content, long length,
                             Rejection.Reason failure, String readError, Origin origin) implements Serializable {}

    /**
     * A file to read: what the layout or manifest says of it, its length when listed (-1 when not), or a
     * failure known before reading (a manifest path outside its folder). Cheap to shuffle; the bytes are read
     * by {@link #read} where the group is resolved.
     */
    public record SourceRef(String path, long length, SourceLayout.Entry entry, Origin origin,
                            Rejection.Reason failure, String detail) implements Serializable {
        SourceFile read(org.apache.hadoop.conf.Configuration hadoop, long maxFileBytes) {
            if (failure != null) {
                return new SourceFile(path, entry, null, Math.max(0, length), failure, detail, origin);
            }
            if (entry.kind() == SourceLayout.Kind.SKIPPED) {
                return new SourceFile(path, entry, null, length, null, null, origin);
            }
            FileListing.ListedFile f = length < 0 ? FileListing.readPath(hadoop, path, maxFileBytes)
                    : FileListing.readFile(hadoop, path, length, maxFileBytes);
            return new SourceFile(path, entry, f.content(), f.length(), f.failure(), f.readError(), origin);
        }
    }

    /** What became of one input file. Image fields are set only when accepted. */
    public record Outcome(Status status, String sourcePath, String label, String reason, String detail, long size,
                          String imageId, Shape shape, DecodedImage image, byte[] png, byte[] maskPng, long phash,
                          Origin origin) implements Serializable {
        static Outcome rejected(Status status, SourceFile f, String label, String reason, String detail) {
            return new Outcome(status, f.path(), label, reason, detail, f.length(), null, null, null, null, null, 0,
                    f.origin());
        }

        /** The same file, moved to quarantine or skipped by a later decision (policy, already ingested). */
        public Outcome decided(Status newStatus, String newReason, String newDetail) {
            return new Outcome(newStatus, sourcePath, label, newReason, newDetail, size, imageId, shape, null, null,
                    null, phash, origin);
        }

        /** Without the image and mask bytes: what every decision and count needs. */
        public Outcome withoutBytes() {
            return new Outcome(status, sourcePath, label, reason, detail, size, imageId, shape, null, null, null, phash,
                    origin);
        }

        /** Without the decoded pixels (the PNG keeps them), for caching many outcomes. */
        public Outcome withoutPixels() {
            return image == null ? this : new Outcome(status, sourcePath, label, reason, detail, size, imageId, shape,
                    null, png, maskPng, phash, origin);
        }
    }

    /** What the original file was: its size, channel count and format. */
    public record Shape(int width, int height, int channels, String format) implements Serializable {}

    private IngestRules() {}

    /**
     * @param requireLabel quarantine images outside a known class folder (ingest, evaluate); scoring passes false
     * @param forDataset   also make what the dataset stores (PNG, merged mask, perceptual hash); scoring and
     *                     evaluation need only the decoded image and its id
     */
    public static List<Outcome> resolve(List<SourceFile> group, BusiConfig.Ingest settings, boolean requireLabel,
                                        boolean forDataset) {
        List<Outcome> out = new ArrayList<>(group.size());
        List<SourceFile> masks = new ArrayList<>();
        List<SourceFile> images = new ArrayList<>();
        for (SourceFile f : group) {
            switch (f.entry().kind()) {
                case SKIPPED -> out.add(Outcome.rejected(Status.SKIPPED, f, null, f.entry().note(), null));
                case MASK -> masks.add(f);
                case IMAGE -> images.add(f);
            }
        }
        // What each mask became, by path, once an accepted image has looked at it: merged, or why not.
        Map<String, Outcome> maskOutcomes = new HashMap<>();
        for (SourceFile image : images) {
            out.add(accept(image, masks, settings, requireLabel, forDataset, maskOutcomes));
        }
        for (SourceFile m : masks) {
            Outcome judged = maskOutcomes.get(m.path());
            if (judged != null) {
                out.add(judged);
            } else if (images.isEmpty()) {
                out.add(Outcome.rejected(Status.QUARANTINED, m, m.entry().label(),
                        Rejection.Reason.MASK_WITHOUT_IMAGE.code(), "no image named like this mask in its folder"));
            } else {
                out.add(Outcome.rejected(Status.SKIPPED, m, m.entry().label(), forDataset ? MASK_OF_REJECTED : MASK_UNUSED,
                        forDataset ? "its image was quarantined" : "masks are not used here"));
            }
        }
        return out;
    }

    private static Outcome accept(SourceFile f, List<SourceFile> masks, BusiConfig.Ingest settings,
                                  boolean requireLabel, boolean forDataset, Map<String, Outcome> maskOutcomes) {
        String label = f.entry().label();
        if (requireLabel && label == null) {
            return Outcome.rejected(Status.QUARANTINED, f, null, Rejection.Reason.UNKNOWN_CLASS.code(),
                    (f.entry().note() == null ? "label (class folder or manifest label)" : f.entry().note())
                            + " is not one of the configured classes");
        }
        if (f.failure() != null) {
            return Outcome.rejected(Status.QUARANTINED, f, label, f.failure().code(), f.readError());
        }
        try {
            DecodedImage image = ImageCodec.decode(f.content(), settings.minSide(), settings.maxPixels());
            String id = ImageCodec.contentHash(image);
            Shape shape = new Shape(image.width(), image.height(), image.channels(), image.format());
            if (!forDataset) {
                return new Outcome(Status.ACCEPTED, f.path(), label, null, null, f.length(), id, shape, image, null,
                        null, 0, f.origin());
            }
            byte[] mask = mergeMasks(masks, image, settings, maskOutcomes);
            byte[] png = ImageCodec.isGray8Png(f.content()) ? f.content()
                    : ImageCodec.encodePng(image.width(), image.height(), image.gray());
            return new Outcome(Status.ACCEPTED, f.path(), label, null, null, f.length(), id, shape, image, png, mask,
                    PerceptualHash.of(image), f.origin());
        } catch (Rejection r) {
            return Outcome.rejected(Status.QUARANTINED, f, label, r.reason().code(), r.detail());
        }
    }

    /**
     * Union (pixel-wise max) of the masks that decode and match the image size; null when there are none. A
     * single 8-bit gray PNG mask is kept as it is. Each mask's outcome goes to {@code outcomes}: merged if any image
     * of the group merged it, else quarantined with why it could not be (unreadable, not a decodable image, another
     * size than its image).
     */
    private static byte[] mergeMasks(List<SourceFile> masks, DecodedImage image, BusiConfig.Ingest settings,
                                     Map<String, Outcome> outcomes) {
        List<DecodedImage> used = new ArrayList<>();
        byte[] first = null; // the first merged mask's file, kept as it is when it is the only one
        for (SourceFile m : masks) {
            Outcome rejected = null;
            DecodedImage mask = null;
            if (m.content() == null) {
                rejected = Outcome.rejected(Status.QUARANTINED, m, m.entry().label(),
                        (m.failure() != null ? m.failure() : Rejection.Reason.UNREADABLE).code(), m.readError());
            } else {
                try {
                    mask = ImageCodec.decode(m.content(), 1, settings.maxPixels());
                } catch (Rejection r) {
                    rejected = Outcome.rejected(Status.QUARANTINED, m, m.entry().label(), r.reason().code(),
                            "mask: " + r.detail());
                }
            }
            if (mask != null && (mask.width() != image.width() || mask.height() != image.height())) {
                rejected = Outcome.rejected(Status.QUARANTINED, m, m.entry().label(),
                        Rejection.Reason.MASK_SIZE_MISMATCH.code(), String.format("mask %dx%d, image %dx%d",
                                mask.width(), mask.height(), image.width(), image.height()));
            }
            if (rejected != null) {
                outcomes.putIfAbsent(m.path(), rejected); // never over a merge by another image of the group
                continue;
            }
            outcomes.put(m.path(), Outcome.rejected(Status.SKIPPED, m, m.entry().label(), MASK_MERGED,
                    "merged into its image's row"));
            first = first == null ? m.content() : first;
            used.add(mask);
        }
        if (used.isEmpty()) {
            return null;
        }
        if (used.size() == 1 && ImageCodec.isGray8Png(first)) {
            return first;
        }
        byte[] merged = new byte[used.get(0).gray().length];
        for (DecodedImage mask : used) {
            byte[] gray = mask.gray();
            for (int i = 0; i < merged.length; i++) {
                merged[i] = (byte) Math.max(merged[i] & 0xff, gray[i] & 0xff);
            }
        }
        return ImageCodec.encodePng(image.width(), image.height(), merged);
    }
}
