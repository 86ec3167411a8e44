package org.busispark.ingest;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads meaning from a file's path in the class-folder layout of the BUSI download: the parent folder names
 * the class, {@code NAME_mask.png} / {@code NAME_mask_1.png} is a lesion mask of {@code NAME.png}.
 */
public final class SourceLayout {
    public enum Kind { IMAGE, MASK, SKIPPED }

    /**
     * @param groupKey folder plus file stem; an image and its masks share it
     * @param label    the class named by the parent folder, or null when that folder is not a known class
     * @param note     for skipped files, the reason code
     */
    public record Entry(Kind kind, String groupKey, String label, String note) implements java.io.Serializable {}

    private static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "tif", "tiff", "gif");
    private static final Set<String> SYSTEM_FILES = Set.of("thumbs.db", "desktop.ini");
    private static final Pattern MASK = Pattern.compile("(?i)^(.*)_mask(?:_\\d+)?$");

    private SourceLayout() {}

    public static Entry classify(String path, List<String> classes) {
        int slash = path.lastIndexOf('/');
        String folder = slash < 0 ? "" : path.substring(0, slash);
        String name = path.substring(slash + 1);
        if (name.startsWith(".") || SYSTEM_FILES.contains(name.toLowerCase(Locale.ROOT))) {
            return new Entry(Kind.SKIPPED, null, null, "hidden-file");
        }
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        if (!IMAGE_EXTENSIONS.contains(ext)) {
            return new Entry(Kind.SKIPPED, null, null, "other-extension");
        }
        String stem = name.substring(0, dot);
        String parent = folder.substring(folder.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
        String label = classes.contains(parent) ? parent : null;
        Matcher mask = MASK.matcher(stem);
        if (mask.matches()) {
            return new Entry(Kind.MASK, folder + "/" + mask.group(1), label, null);
        }
        return new Entry(Kind.IMAGE, folder + "/" + stem, label, null);
    }
}
