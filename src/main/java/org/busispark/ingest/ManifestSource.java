package org.busispark.ingest;

import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.busispark.config.BusiConfig;
import org.busispark.model.Origin;
import org.busispark.storage.Storage;
import scala.Tuple2;

import java.io.Serializable;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The manifest layout: a CSV metadata file as an archive exports it, one row per image, whose fields come from
 * columns or path templates ({@link BusiConfig.Manifest}, {@link ManifestField}); relative paths resolve under the
 * manifest's folder. Rows are read by Spark and the files they name are read on the executors. A path that leaves
 * the manifest's folder ({@code ../}, an absolute path elsewhere, another file system) is quarantined, never read.
 */
public final class ManifestSource {
    private ManifestSource() {}

    public static boolean isManifest(String uri) {
        return uri.toLowerCase(Locale.ROOT).endsWith(".csv");
    }

    /** The mapping's fields, parsed and checked against the manifest's header. */
    record Fields(ManifestField image, ManifestField label, ManifestField patient, ManifestField scanner,
                  ManifestField mask) implements Serializable {
        /**
         * {@code declared} null means the default columns, of which only path and label must exist; a declared
         * mapping must find every column it names.
         */
        static Fields of(BusiConfig.Manifest declared, List<String> header, String manifest) {
            BusiConfig.Manifest m = declared == null ? BusiConfig.Manifest.DEFAULT : declared;
            Fields f = new Fields(ManifestField.parse(m.image()), ManifestField.parse(m.label()), optional(m.patient()),
                    optional(m.scanner()), optional(m.mask()));
            if (declared == null) {
                // The plain layout: the optional columns are used when the header has them.
                f = new Fields(f.image, f.label, present(f.patient, header), present(f.scanner, header),
                        present(f.mask, header));
            }
            Set<String> missing = new TreeSet<>();
            for (ManifestField field : Arrays.asList(f.image, f.label, f.patient, f.scanner, f.mask)) {
                if (field != null) {
                    field.columns().stream().filter(c -> !header.contains(c)).forEach(missing::add);
                }
            }
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("Manifest " + manifest + " has no column" + (missing.size() > 1 ? "s " : " ")
                        + missing + (declared == null ? " (a manifest without a mapping needs columns 'path' and 'label', "
                        + "optionally 'mask_path', 'patient_id', 'scanner')" : " that its source's mapping names")
                        + "; its header is " + header);
            }
            return f;
        }

        private static ManifestField optional(String spec) {
            return spec == null ? null : ManifestField.parse(spec);
        }

        private static ManifestField present(ManifestField f, List<String> header) {
            return f != null && header.containsAll(f.columns()) ? f : null;
        }
    }

    /**
     * Manifest rows as files to read, keyed like folder entries: an image and its mask share a key. A row whose
     * label is not a class keeps its raw value in the entry's note, for the quarantine record.
     */
    static JavaPairRDD<String, IngestRules.SourceRef> refs(SparkSession spark, String manifestUri,
                                                           BusiConfig.Manifest mapping, String site,
                                                           List<String> classes) {
        String manifest = Storage.normalize(manifestUri);
        Dataset<Row> rows = spark.read().option("header", "true").option("mode", "PERMISSIVE").csv(manifest);
        List<String> header = Arrays.asList(rows.columns());
        Fields f = Fields.of(mapping, header, manifest);
        String root = new Path(manifest).getParent().toString();
        return rows.javaRDD().flatMapToPair(r -> {
            java.util.function.Function<String, String> value = column -> r.getAs(column);
            String path = f.image.apply(value);
            String rawLabel = f.label.apply(value);
            String label = rawLabel == null ? null : rawLabel.strip().toLowerCase(Locale.ROOT);
            String known = classes.contains(label) ? label : null;
            String note = known == null ? "label " + (rawLabel == null ? "(empty)" : "'" + rawLabel + "'") : null;
            Origin origin = new Origin(site, f.patient == null ? null : f.patient.apply(value),
                    f.scanner == null ? null : f.scanner.apply(value));
            String maskPath = f.mask == null ? null : f.mask.apply(value);
            List<Tuple2<String, IngestRules.SourceRef>> out = new ArrayList<>(2);
            String image = resolve(root, path);
            String key = "manifest:" + (image == null ? path : image);
            out.add(new Tuple2<>(key, ref(image, path, root, new SourceLayout.Entry(SourceLayout.Kind.IMAGE, key, known,
                    note), origin)));
            if (maskPath != null && !maskPath.isBlank()) {
                out.add(new Tuple2<>(key, ref(resolve(root, maskPath), maskPath, root,
                        new SourceLayout.Entry(SourceLayout.Kind.MASK, key, known, null), origin)));
            }
            return out.iterator();
        });
    }

    private static IngestRules.SourceRef ref(String resolved, String raw, String root, SourceLayout.Entry entry,
                                             Origin origin) {
        return resolved == null
                ? new IngestRules.SourceRef(raw == null ? "(empty path)" : raw, 0, entry, origin,
                        raw == null ? Rejection.Reason.MISSING_FIELD : Rejection.Reason.PATH_ESCAPES_ROOT,
                        raw == null ? "the row gives no image path" : "not under the manifest's folder " + root)
                : new IngestRules.SourceRef(resolved, -1, entry, origin, null, null);
    }

    /** The path resolved under {@code root}, or null when it is empty or leaves the root. */
    static String resolve(String root, String path) {
        if (path == null || path.isBlank()) {
            return null;
        }
        Path rootPath = new Path(root);
        Path child = new Path(path.strip());
        URI rootUri = rootPath.toUri();
        // Relative paths resolve under the root (".." segments normalised away); absolute ones stay on the
        // root's file system unless they name their own.
        Path resolved = child.toUri().getScheme() != null ? child
                : child.isAbsolute() ? new Path(rootUri.getScheme(), rootUri.getAuthority(), child.toUri().getPath())
                : new Path(rootPath, child);
        String r = new Path(resolved.toUri().normalize()).toString();
        return r.startsWith(rootPath + "/") ? r : null;
    }
}
