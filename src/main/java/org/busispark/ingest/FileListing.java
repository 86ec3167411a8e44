package org.busispark.ingest;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.busispark.storage.HadoopConf;
import org.busispark.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Lists and reads files on any Hadoop file system. Unlike Spark's file sources it keeps what a hospital
 * archive really holds: zero-byte files (which Spark's splitter drops) and hidden files (which its listing
 * hides), so that ingest can quarantine or count them instead of losing them silently. Folder names are walked
 * on the driver; the files of a large tree are listed on the executors. Files are read on the executors only,
 * after they have been grouped, so that no image bytes are ever shuffled or sent to the driver.
 */
public final class FileListing {
    /** A listed file: its path, and its bytes or why they could not be read (a reason and a detail). */
    public record ListedFile(String path, long length, byte[] content, Rejection.Reason failure, String readError)
            implements java.io.Serializable {}

    private FileListing() {}

    /**
     * Trees of at most this many folders are listed by the driver, as Spark's file index lists up to
     * {@code spark.sql.sources.parallelPartitionDiscovery.threshold} (32) paths itself: a listing job costs more.
     */
    public static final int DRIVER_LISTING_FOLDERS = 32;

    /** The files under a root: on the driver where the tree has few folders, else as a Spark job. */
    public record Listing(List<String[]> onDriver, JavaRDD<String[]> distributed) {}

    /**
     * Every file under {@code root} as (path, length in bytes): listed by the driver when the tree has at most
     * {@link #DRIVER_LISTING_FOLDERS} folders, else by one task per folder.
     */
    public static Listing list(JavaSparkContext jsc, String root) {
        String uri = Storage.normalize(root);
        Configuration hadoop = jsc.hadoopConfiguration();
        List<String> folders = folders(hadoop, uri);
        if (folders.size() <= DRIVER_LISTING_FOLDERS) {
            return new Listing(filesIn(hadoop, folders, root), null);
        }
        HadoopConf conf = HadoopConf.of(jsc);
        return new Listing(null, jsc.parallelize(folders, Math.max(1, Math.min(folders.size(), jsc.defaultParallelism())))
                .flatMap(folder -> filesIn(conf.value(), folder).iterator()));
    }

    /**
     * Every file under {@code root} as (path, length in bytes), listed by the driver and cut into {@code slices}
     * of consecutive files: for reading each file on its own (scoring, evaluation), where there is nothing to
     * group and a shuffle would cost more than the listing. The driver holds every path, as Spark's own file
     * index does.
     */
    public static JavaRDD<String[]> listOnDriver(JavaSparkContext jsc, String root, int slices) {
        Configuration hadoop = jsc.hadoopConfiguration();
        List<String[]> files = filesIn(hadoop, folders(hadoop, Storage.normalize(root)), root);
        return jsc.parallelize(files, Math.max(1, Math.min(slices, files.size())));
    }

    private static List<String[]> filesIn(Configuration hadoop, List<String> folders, String root) {
        List<String[]> files = new ArrayList<>();
        try {
            for (String folder : folders) {
                files.addAll(filesIn(hadoop, folder));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + root + ": " + e.getMessage(), e);
        }
        return files;
    }

    /** The root and every folder below it, breadth first. */
    static List<String> folders(Configuration hadoop, String root) {
        try {
            Path rootPath = new Path(root);
            FileSystem fs = rootPath.getFileSystem(hadoop);
            if (!fs.exists(rootPath)) {
                throw new IllegalArgumentException("Input not found: " + root);
            }
            if (fs.getFileStatus(rootPath).isFile()) {
                throw new IllegalArgumentException("Input must be a folder, got a file: " + root);
            }
            List<String> out = new ArrayList<>();
            Deque<Path> todo = new ArrayDeque<>(List.of(rootPath));
            while (!todo.isEmpty()) {
                Path dir = todo.poll();
                out.add(dir.toString());
                for (FileStatus s : fs.listStatus(dir)) {
                    if (s.isDirectory()) {
                        todo.add(s.getPath());
                    }
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    private static List<String[]> filesIn(Configuration hadoop, String folder) throws IOException {
        Path dir = new Path(folder);
        List<String[]> out = new ArrayList<>();
        for (FileStatus s : dir.getFileSystem(hadoop).listStatus(dir)) {
            if (!s.isDirectory()) {
                out.add(new String[] {s.getPath().toString(), Long.toString(s.getLen())});
            }
        }
        return out;
    }

    /** Reads a file named by a manifest: its size is not known yet, and it may not exist. */
    static ListedFile readPath(Configuration hadoop, String path, long maxFileBytes) {
        Path p = new Path(path);
        long length;
        try {
            length = p.getFileSystem(hadoop).getFileStatus(p).getLen();
        } catch (java.io.FileNotFoundException e) {
            return new ListedFile(path, 0, null, Rejection.Reason.MISSING_FILE, "file not found");
        } catch (IOException | RuntimeException e) {
            return new ListedFile(path, 0, null, Rejection.Reason.UNREADABLE, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        return readFile(hadoop, path, length, maxFileBytes);
    }

    static ListedFile readFile(Configuration hadoop, String path, long length, long maxFileBytes) {
        if (length > maxFileBytes) {
            return new ListedFile(path, length, null, Rejection.Reason.TOO_LARGE,
                    "file of " + length + " bytes exceeds " + maxFileBytes);
        }
        Path p = new Path(path);
        try (InputStream in = p.getFileSystem(hadoop).open(p)) {
            return new ListedFile(path, length, in.readAllBytes(), null, null);
        } catch (IOException | RuntimeException e) {
            return new ListedFile(path, length, null, Rejection.Reason.UNREADABLE,
                    e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
