package org.busispark.storage;

import org.apache.hadoop.fs.FileSystem;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class StorageTest {
    @TempDir
    Path dir;

    private final Storage storage = new Storage(new Configuration());

    private String uri(String name) {
        return Storage.normalize(dir.resolve(name).toString());
    }

    private List<String> namesIn(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void relativePathBecomesAbsoluteFileUri() {
        assertEquals("file:" + Path.of("rel/path").toAbsolutePath(), Storage.normalize("rel/path"));
        // An existing folder: File.toURI would add a slash, normalize drops it.
        assertEquals("file:" + Path.of("src").toAbsolutePath(), Storage.normalize("src/"));
        assertEquals("file:/", Storage.normalize("/"));
    }

    @Test
    void urisKeepTheirSchemeAndLoseTrailingSlashes() {
        assertEquals("hdfs://nn:8020/x", Storage.normalize("hdfs://nn:8020/x/"));
        assertEquals("hdfs://nn:8020/x", Storage.normalize("  hdfs://nn:8020/x//  "));
        assertEquals("s3a://b/k", Storage.normalize("s3a://b/k"));
        assertEquals("s3a://b/k/model", Storage.child("s3a://b/k/", "model"));
        assertThrows(IllegalArgumentException.class, () -> Storage.normalize(" "));
    }

    @Test
    void writeThenRead() {
        String file = uri("out/report.json");
        assertFalse(storage.exists(file));
        storage.writeText(file, "{\"é\": 1}");
        assertTrue(storage.exists(file));
        assertEquals("{\"é\": 1}", storage.readText(file));
    }

    @Test
    void writeReplacesAndLeavesNoTemporaryFiles() throws IOException {
        StorageContract.writeTextReplaces(storage, FileSystem.getLocal(new Configuration()), uri("write"));
    }

    @Test
    void commitFolderReplacesOldFolder() throws IOException {
        StorageContract.commitFolderReplaces(storage, FileSystem.getLocal(new Configuration()), uri("commit"));
    }

    @Test
    void commitFolderCreatesMissingTarget() {
        String target = uri("fresh");
        String staging = storage.stagingFor(target);
        storage.writeText(staging + "/a.txt", "a");
        storage.commitFolder(staging, target);
        assertEquals("a", storage.readText(target + "/a.txt"));
        assertFalse(storage.exists(staging));
    }
}
