package org.busispark.model.torch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import org.busispark.model.ModelLoadException;

/**
 * A zip file held in memory, read through its central directory. java.util.zip's ZipInputStream refuses torch's
 * entries (stored, with their sizes in a data descriptor after the data), and ZipFile needs a file on disk; here a
 * stored entry is a view of the file's bytes, not a copy, and a compressed one is inflated with java.util.zip.
 */
final class MemoryZip {
    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int END_OF_CENTRAL_DIRECTORY = 0x06054b50;

    private record Entry(int method, long crc, long compressedSize, long size, long localHeader) {
    }

    private final byte[] file;
    private final String name;
    private final ByteBuffer le;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private MemoryZip(byte[] file, String name) {
        this.file = file;
        this.name = name;
        this.le = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Reads the central directory of a file that starts like a zip; a file cut short is refused here. */
    static MemoryZip open(byte[] file, String name) {
        MemoryZip zip = new MemoryZip(file, name);
        int end = zip.endOfCentralDirectory();
        if (end < 0) {
            String last = zip.lastLocalEntry();
            throw new ModelLoadException(name + " breaks off" + (last == null ? "" : " at entry " + last)
                    + ": the zip's central directory, at its end, is missing (truncated download or copy?)");
        }
        int count = zip.u16(end + 10);
        long at = zip.u32(end + 16);
        for (int i = 0; i < count; i++) {
            if (at + 46 > file.length || zip.le.getInt((int) at) != CENTRAL_HEADER) {
                throw zip.corrupt("its central directory");
            }
            int p = (int) at;
            int nameLength = zip.u16(p + 28);
            if (p + 46 + nameLength > file.length) {
                throw zip.corrupt("its central directory");
            }
            String entry = new String(file, p + 46, nameLength, StandardCharsets.UTF_8);
            zip.entries.put(entry, new Entry(zip.u16(p + 10), zip.u32(p + 16), zip.u32(p + 20), zip.u32(p + 24),
                    zip.u32(p + 42)));
            at = p + 46L + nameLength + zip.u16(p + 30) + zip.u16(p + 32);
        }
        return zip;
    }

    Set<String> names() {
        return entries.keySet();
    }

    /** The entry's bytes, little-endian; null when the zip has no such entry. */
    ByteBuffer read(String entry) {
        Entry e = entries.get(entry);
        if (e == null) {
            return null;
        }
        long header = e.localHeader();
        if (header + 30 > file.length || le.getInt((int) header) != LOCAL_HEADER) {
            throw corrupt("entry " + entry);
        }
        long start = header + 30 + u16((int) header + 26) + u16((int) header + 28);
        if (start + e.compressedSize() > file.length || e.size() > Integer.MAX_VALUE - 8) {
            throw corrupt("entry " + entry);
        }
        ByteBuffer content = switch (e.method()) {
            case 0 -> ByteBuffer.wrap(file, (int) start, (int) e.compressedSize()).slice();
            case 8 -> inflate(entry, (int) start, e);
            default -> throw new ModelLoadException(name + ": entry " + entry + " is compressed with method "
                    + e.method() + "; torch.save stores entries uncompressed");
        };
        CRC32 crc = new CRC32();
        crc.update(content.duplicate());
        if (crc.getValue() != e.crc() || content.remaining() != e.size()) {
            throw new ModelLoadException(name + ": entry " + entry + " does not match its checksum or size "
                    + "(damaged file?)");
        }
        return content.order(ByteOrder.LITTLE_ENDIAN);
    }

    private ByteBuffer inflate(String entry, int start, Entry e) {
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(file, start, (int) e.compressedSize());
            byte[] out = new byte[(int) e.size()];
            int n = inflater.inflate(out);
            if (n != out.length || !inflater.finished()) {
                throw corrupt("entry " + entry);
            }
            return ByteBuffer.wrap(out);
        } catch (DataFormatException ex) {
            throw corrupt("entry " + entry);
        } finally {
            inflater.end();
        }
    }

    private ModelLoadException corrupt(String what) {
        return new ModelLoadException(name + ": corrupt zip at " + what + " (truncated or damaged file?)");
    }

    /** The record's offset, searched from the end past a comment of up to 64 KiB; -1 when there is none. */
    private int endOfCentralDirectory() {
        for (int at = file.length - 22; at >= Math.max(0, file.length - 22 - 0xffff); at--) {
            if (le.getInt(at) == END_OF_CENTRAL_DIRECTORY) {
                return at;
            }
        }
        return -1;
    }

    /**
     * For a file cut short: the last entry whose local header survives, found by its signature followed by the
     * first entry's folder (torch names every entry {@code <prefix>/...}), for the message only.
     */
    private String lastLocalEntry() {
        if (file.length < 30) {
            return null;
        }
        int firstLength = u16(26);
        int slash = indexOf(30, Math.min(30 + firstLength, file.length), (byte) '/');
        if (slash < 0) {
            return null;
        }
        byte[] folder = Arrays.copyOfRange(file, 30, slash + 1);
        String last = null;
        for (int at = 0; at + 30 + folder.length <= file.length; at++) {
            if (le.getInt(at) == LOCAL_HEADER
                    && Arrays.equals(file, at + 30, at + 30 + folder.length, folder, 0, folder.length)) {
                int length = Math.min(u16(at + 26), file.length - at - 30);
                last = new String(file, at + 30, length, StandardCharsets.UTF_8);
            }
        }
        return last;
    }

    private int indexOf(int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (file[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private int u16(int at) {
        return le.getShort(at) & 0xffff;
    }

    private long u32(int at) {
        return le.getInt(at) & 0xffffffffL;
    }
}
