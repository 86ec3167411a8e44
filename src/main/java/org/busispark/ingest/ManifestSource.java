package org.busispark.ingest;

import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.busispark.config.BusiConfig;
import org.busispark.storage.Storage;
import scala.Tuple2;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The manifest layout: a CSV file with a header {@code path,label[,mask_path][,patient_id]} whose relative
 * paths resolve under the manifest's folder. Rows are read by Spark and the files they name are read on the
 * executors. A path that leaves the manifest's folder ({@code ../}, an absolute path elsewhere, another file
 * system) is quarantined, never read.
 */
public final class ManifestSource {
    public static final String PATH = "path";
    public static final String LABEL = "label";
    public static final String MASK_PATH = "mask_path";
    public static final String PATIENT_ID = "patient_id";

    private ManifestSource() {}

    public static boolean isManifest(String uri) {
        return uri.toLowerCase(Locale.ROOT).endsWith(".csv");
    }

    /** Manifest rows as files to read, keyed like folder entries: an image and its mask share a key. */
    static JavaPairRDD<String, IngestRules.SourceRef> refs(SparkSession spark, String manifestUri, BusiConfig config) {
        String manifest = Storage.normalize(manifestUri);
        Dataset<Row> rows = spark.read().option("header", "true").option("mode", "PERMISSIVE").csv(manifest);
        List<String> columns = Arrays.asList(rows.columns());
        if (!columns.contains(PATH) || !columns.contains(LABEL)) {
            throw new IllegalArgumentException("Manifest " + manifest + " must have a header with columns '" + PATH
                    + "' and '" + LABEL + "' (optionally '" + MASK_PATH + "', '" + PATIENT_ID + "'), got " + columns);
        }
        String root = new Path(manifest).getParent().toString();
        List<String> classes = config.model().classes();
        String maskCol = columns.contains(MASK_PATH) ? MASK_PATH : null;
        String patientCol = columns.contains(PATIENT_ID) ? PATIENT_ID : null;
        return rows.javaRDD().flatMapToPair(r -> {
            String path = r.getAs(PATH);
            String label = r.getAs(LABEL);
            String maskPath = maskCol == null ? null : r.getAs(maskCol);
            String patient = patientCol == null ? null : blankToNull(r.getAs(patientCol));
            label = label == null ? null : label.strip().toLowerCase(Locale.ROOT);
            String known = classes.contains(label) ? label : null;
            List<Tuple2<String, IngestRules.SourceRef>> out = new ArrayList<>(2);
            String image = resolve(root, path);
            String key = "manifest:" + (image == null ? path : image);
            out.add(new Tuple2<>(key, ref(image, path, root, SourceLayout.Kind.IMAGE, key, known, patient)));
            if (maskPath != null && !maskPath.isBlank()) {
                out.add(new Tuple2<>(key, ref(resolve(root, maskPath), maskPath, root, SourceLayout.Kind.MASK, key,
                        known, patient)));
            }
            return out.iterator();
        });
    }

    private static IngestRules.SourceRef ref(String resolved, String raw, String root, SourceLayout.Kind kind,
                                             String key, String label, String patient) {
        SourceLayout.Entry entry = new SourceLayout.Entry(kind, key, label, null);
        return resolved == null
                ? new IngestRules.SourceRef(raw == null ? "(empty path)" : raw, 0, entry, patient,
                        Rejection.Reason.PATH_ESCAPES_ROOT, "not under the manifest's folder " + root)
                : new IngestRules.SourceRef(resolved, -1, entry, patient, null, null);
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

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
