package org.busispark.ingest;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.SerializableConfiguration;
import org.busispark.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Lists and reads every file under a root on any Hadoop file system. Unlike Spark's file sources it keeps
 * what a hospital archive really holds: zero-byte files (which Spark's splitter drops) and hidden files
 * (which its listing hides), so that ingest can quarantine or count them instead of losing them silently.
 * Only folder names are walked on the driver; files are listed and read on the executors.
 */
public final class FileListing {
    /** A listed file: its path, and its bytes or the reason they could not be read. */
    public record ListedFile(String path, long length, byte[] content, String readError) implements java.io.Serializable {}

    private FileListing() {}

    public static JavaRDD<ListedFile> read(JavaSparkContext jsc, String root, long maxFileBytes) {
        String uri = Storage.normalize(root);
        Configuration hadoop = jsc.hadoopConfiguration();
        List<String> folders = folders(hadoop, uri);
        SerializableConfiguration conf = new SerializableConfiguration(hadoop);
        int parallelism = jsc.defaultParallelism();
        return jsc.parallelize(folders, Math.max(1, Math.min(folders.size(), parallelism)))
                .flatMap(folder -> filesIn(conf.value(), folder).iterator())
                .repartition(Math.max(parallelism, 1) * 4) // folders are uneven; spread the reading
                .map(status -> readFile(conf.value(), status, maxFileBytes));
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

    private static ListedFile readFile(Configuration hadoop, String[] status, long maxFileBytes) {
        String path = status[0];
        long length = Long.parseLong(status[1]);
        if (length > maxFileBytes) {
            return new ListedFile(path, length, null, "file of " + length + " bytes exceeds " + maxFileBytes);
        }
        Path p = new Path(path);
        try (InputStream in = p.getFileSystem(hadoop).open(p)) {
            return new ListedFile(path, length, in.readAllBytes(), null);
        } catch (IOException | RuntimeException e) {
            return new ListedFile(path, length, null, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
