package org.busispark.storage;

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
        String file = uri("card.json");
        storage.writeText(file, "first, longer content");
        storage.writeText(file, "second");
        assertEquals("second", storage.readText(file));
        assertEquals("second", Files.readString(dir.resolve("card.json")));
        List<String> names = namesIn(dir);
        assertTrue(names.stream().noneMatch(n -> n.contains(".tmp-")), "left: " + names);
    }

    @Test
    void commitFolderReplacesOldFolder() throws IOException {
        String target = uri("model");
        storage.writeText(target + "/old.txt", "old");
        String staging = storage.stagingFor(target);
        assertTrue(Path.of(java.net.URI.create(staging)).getFileName().toString().startsWith("."), staging);
        storage.writeText(staging + "/new.txt", "new");
        assertTrue(storage.exists(target + "/old.txt"), "target untouched until commit");

        storage.commitFolder(staging, target);

        assertEquals("new", storage.readText(target + "/new.txt"));
        assertFalse(storage.exists(target + "/old.txt"));
        assertFalse(storage.exists(staging));
        assertEquals(List.of("model"), namesIn(dir));
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
