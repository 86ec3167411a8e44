package org.busispark.storage;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Reads and writes outputs on any Hadoop file system (file:, hdfs:, s3a:) with atomic visibility: a reader
 * sees either nothing or the complete file or folder, never a half-written one.
 */
public final class Storage {
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:.*");
    private final Configuration hadoop;

    public Storage(Configuration hadoop) {
        this.hadoop = hadoop;
    }

    /** A plain path becomes an absolute file: URI; a URI with a scheme is kept. Trailing slashes are dropped. */
    public static String normalize(String uriOrPath) {
        if (uriOrPath == null || uriOrPath.isBlank()) {
            throw new IllegalArgumentException("Empty path or URI");
        }
        String s = uriOrPath.strip();
        String uri = SCHEME.matcher(s).matches() ? s : new java.io.File(s).getAbsoluteFile().toURI().toString();
        while (uri.endsWith("/") && !uri.endsWith("://") && uri.length() > "file:/".length()) {
            uri = uri.substring(0, uri.length() - 1);
        }
        return uri;
    }

    public static String child(String parent, String name) {
        return normalize(parent) + "/" + name;
    }

    public boolean exists(String uri) {
        return io(() -> fs(uri).exists(new Path(uri)));
    }

    public boolean isFile(String uri) {
        return io(() -> {
            try {
                return fs(uri).getFileStatus(new Path(uri)).isFile();
            } catch (FileNotFoundException e) {
                return false;
            }
        });
    }

    /** Deletes a file or a folder with everything in it; nothing to delete is fine. */
    public void delete(String uri) {
        io(() -> fs(uri).delete(new Path(uri), true));
    }

    public byte[] readBytes(String uri) {
        return io(() -> {
            try (InputStream in = fs(uri).open(new Path(uri))) {
                return in.readAllBytes();
            }
        });
    }

    public String readText(String uri) {
        return new String(readBytes(uri), StandardCharsets.UTF_8);
    }

    public void writeText(String uri, String text) {
        writeBytes(uri, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes a file so that it appears complete or not at all: object stores publish an object only when its
     * upload completes; other file systems get a hidden temporary file renamed into place.
     */
    public void writeBytes(String uri, byte[] bytes) {
        write(uri, out -> out.write(bytes));
    }

    /** Copies one file, streaming, with the same all-or-nothing visibility as {@link #writeBytes}. */
    public void copy(String fromUri, String toUri) {
        write(toUri, out -> {
            try (InputStream in = fs(fromUri).open(new Path(fromUri))) {
                in.transferTo(out);
            }
        });
    }

    /**
     * The files under {@code dir}, recursively, by path relative to it, with their sizes. Hidden names (starting
     * with '.' or '_': checksums, staging folders, markers such as _SUCCESS) are left out, as Hadoop's readers do.
     */
    public Map<String, Long> listFiles(String dir) {
        return io(() -> {
            FileSystem fs = fs(dir);
            String root = fs.makeQualified(new Path(dir)).toUri().getPath() + "/";
            Map<String, Long> out = new TreeMap<>();
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(new Path(dir), true);
            while (it.hasNext()) {
                LocatedFileStatus f = it.next();
                String relative = f.getPath().toUri().getPath().substring(root.length());
                if (Arrays.stream(relative.split("/")).noneMatch(n -> n.startsWith(".") || n.startsWith("_"))) {
                    out.put(relative, f.getLen());
                }
            }
            return out;
        });
    }

    private interface Body {
        void writeTo(FSDataOutputStream out) throws IOException;
    }

    private void write(String uri, Body body) {
        io(() -> {
            Path target = new Path(uri);
            FileSystem fs = fs(uri);
            if (isObjectStore(fs)) {
                try (FSDataOutputStream out = fs.create(target, true)) {
                    body.writeTo(out);
                }
                return null;
            }
            Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
            try (FSDataOutputStream out = fs.create(tmp, false)) {
                body.writeTo(out);
            }
            if (fs.getScheme().equals("hdfs")) {
                // One NameNode operation replaces the file: a reader never finds it missing (a `latest` pointer).
                FileUtil.rename(fs, tmp, target, Options.Rename.OVERWRITE);
                return null;
            }
            if (fs.exists(target) && !fs.delete(target, false)) {
                throw new IOException("Cannot replace " + target);
            }
            if (!fs.rename(tmp, target)) {
                fs.delete(tmp, false);
                throw new IOException("Cannot move " + tmp + " to " + target);
            }
            return null;
        });
    }

    /** A fresh hidden folder beside {@code target}, for writing a folder that {@link #commitFolder} publishes. */
    public String stagingFor(String target) {
        Path t = new Path(target);
        return new Path(t.getParent(), "._staging-" + t.getName() + "-" + UUID.randomUUID()).toString();
    }

    /**
     * Publishes a completely written staging folder as {@code target}. An older target is first moved aside
     * (hidden) and deleted only once the new one is in place, so a crash never loses both.
     */
    public void commitFolder(String staging, String target) {
        io(() -> {
            FileSystem fs = fs(target);
            Path t = new Path(target);
            Path old = null;
            if (fs.exists(t)) {
                old = new Path(t.getParent(), "._replaced-" + t.getName() + "-" + UUID.randomUUID());
                if (!fs.rename(t, old)) {
                    throw new IOException("Cannot move the previous " + t + " aside");
                }
            }
            if (!fs.rename(new Path(staging), t)) {
                if (old != null) {
                    fs.rename(old, t);
                }
                throw new IOException("Cannot move " + staging + " to " + t);
            }
            if (old != null) {
                fs.delete(old, true);
            }
            return null;
        });
    }

    /**
     * Publishes a staging folder that tasks wrote into, keeping only {@code keep} (paths or URIs of the files
     * written by the attempts that succeeded): files of failed or duplicate attempts are deleted first.
     */
    public void commitFolder(String staging, String target, java.util.Collection<String> keep) {
        String root = new Path(staging).toUri().getPath() + "/";
        Set<String> kept = new HashSet<>();
        for (String f : keep) {
            String path = new Path(f).toUri().getPath();
            if (!path.startsWith(root)) {
                throw new IllegalArgumentException(f + " is not inside " + staging);
            }
            kept.add(path.substring(root.length()));
        }
        for (String f : listFiles(staging).keySet()) {
            if (!kept.contains(f)) {
                delete(child(staging, f));
            }
        }
        commitFolder(staging, target);
    }

    private static boolean isObjectStore(FileSystem fs) {
        String scheme = fs.getScheme();
        return scheme.startsWith("s3") || scheme.equals("gs") || scheme.startsWith("abfs") || scheme.startsWith("wasb");
    }

    private FileSystem fs(String uri) throws IOException {
        return new Path(uri).getFileSystem(hadoop);
    }

    private interface IoAction<T> {
        T run() throws IOException;
    }

    private static <T> T io(IoAction<T> action) {
        try {
            return action.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }
}
