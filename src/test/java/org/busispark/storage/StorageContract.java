package org.busispark.storage;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@link Storage} promises on every file system, checked the same way on file:, hdfs: and s3a:. */
final class StorageContract {
    private StorageContract() {}

    /** Names in a folder, leaving out the checksum files Hadoop's local file system keeps beside each file. */
    static List<String> names(FileSystem fs, String dir) throws IOException {
        List<String> out = new ArrayList<>();
        for (FileStatus s : fs.listStatus(new Path(dir))) {
            String n = s.getPath().getName();
            if (!(n.startsWith(".") && n.endsWith(".crc"))) {
                out.add(n);
            }
        }
        out.sort(null);
        return out;
    }

    /** A file is replaced whole, and no temporary file is left beside it. */
    static void writeTextReplaces(Storage storage, FileSystem fs, String dir) throws IOException {
        String file = dir + "/card.json";
        assertFalse(storage.exists(file));
        storage.writeText(file, "first, longer content é");
        assertEquals("first, longer content é", storage.readText(file));
        storage.writeText(file, "second");
        assertEquals("second", storage.readText(file));
        assertEquals(List.of("card.json"), names(fs, dir), "no temporary file left");
    }

    /** A staged folder replaces the target at commit, and neither the staging nor the old folder is left. */
    static void commitFolderReplaces(Storage storage, FileSystem fs, String dir) throws IOException {
        String target = dir + "/model";
        storage.writeText(target + "/old.txt", "old");
        String staging = storage.stagingFor(target);
        assertTrue(staging.startsWith(dir + "/._staging-model-"), staging);
        storage.writeText(staging + "/new.txt", "new");
        assertTrue(storage.exists(target + "/old.txt"), "target untouched until commit");

        storage.commitFolder(staging, target);

        assertEquals("new", storage.readText(target + "/new.txt"));
        assertFalse(storage.exists(target + "/old.txt"));
        assertFalse(storage.exists(staging));
        assertEquals(List.of("model"), names(fs, dir), "neither staging nor the replaced folder is left");
        assertEquals(List.of("new.txt"), names(fs, target));
    }
}
