package org.busispark.model.torch;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.busispark.model.ModelLoadException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reading torch.save files against what torch itself read from them (the fixtures and their JSON come from
 * scripts/torch/make_reader_fixtures.py), and every way a file is refused.
 */
class TorchCheckpointTest {
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    @TempDir
    Path tmp;

    @Test
    void aModulesStateDictKeepsItsOrderAndValues() {
        Map<String, TorchTensor> state = read("conv_bn.pt");
        assertEquals(List.of("conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                "bn.num_batches_tracked"), List.copyOf(state.keySet()));
        assertMatchesTorch("conv_bn", state);
        TorchTensor weight = state.get("conv.weight");
        assertEquals("[3, 2, 3, 3]", weight.shapeString());
        assertEquals(54, weight.numel());
        TorchTensor batches = state.get("bn.num_batches_tracked");
        assertEquals("int64", batches.dtype());
        assertEquals("[]", batches.shapeString());
        assertArrayEquals(new float[] {7}, batches.values());
    }

    @Test
    void viewsAreWalkedThroughTheirOffsetsAndStrides() {
        byte[] file = fixture("views.pt");
        // The fixture really shares storages: ten tensors, five storages (base and six views of it share one).
        assertEquals(5, entries(file).keySet().stream().filter(e -> e.contains("/data/")).count());
        Map<String, TorchTensor> state = TorchCheckpoint.read(file, "views.pt");
        assertEquals(List.of("base", "transposed", "sliced", "row", "column", "stepped", "permuted", "broadcast",
                "scalar", "empty"), List.copyOf(state.keySet()));
        assertMatchesTorch("views", state);
        assertEquals("[0, 3]", state.get("empty").shapeString());
        assertEquals(0, state.get("empty").numel());
    }

    @Test
    void everyDtypeDecodesExactly() {
        Map<String, TorchTensor> state = read("dtypes.pt");
        state.forEach((key, tensor) -> assertEquals(key, tensor.dtype()));
        assertEquals(List.of("float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8",
                "bool"), List.copyOf(state.keySet()));
        assertMatchesTorch("dtypes", state);
        assertEquals(0x1p-24f, state.get("float16").values()[7]);
        assertEquals(65504f, state.get("float16").values()[11]);
        assertEquals(0x1p40f, state.get("int64").values()[2]); // 2^40 + 1 rounds to the nearest float
    }

    @Test
    void halfPrecisionDecodesEveryBitPatternExactly() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            int exponent = bits >>> 10 & 0x1f;
            int mantissa = bits & 0x3ff;
            double magnitude = exponent == 0x1f ? (mantissa == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                    : exponent == 0 ? Math.scalb((double) mantissa, -24)
                    : Math.scalb(1 + mantissa / 1024.0, exponent - 15);
            float expected = (float) ((bits & 0x8000) != 0 ? -magnitude : magnitude);
            assertEquals(expected, TorchCheckpoint.halfToFloat((short) bits), "bits 0x" + Integer.toHexString(bits));
        }
    }

    @Test
    void trainingCheckpointsYieldTheirStateDict() {
        // {"epoch", "state_dict" (of nn.Parameters), "optimizer"}, and torchvision's {"model", "epoch", "args"}.
        Map<String, TorchTensor> state = read("nested_state_dict.pt");
        assertEquals(7, state.size());
        assertMatchesTorch("nested_state_dict", state);
        assertMatchesTorch("nested_model", read("nested_model.pt"));
    }

    @Test
    void theArchiveFolderMayHaveAnyName() {
        byte[] original = fixture("conv_bn.pt");
        Map<String, TorchTensor> expected = TorchCheckpoint.read(original, "conv_bn.pt");
        for (String prefix : List.of("archive/", "resnet18-f37072fd/")) {
            // Rewritten compressed, not stored as torch does: the reader reads either.
            byte[] renamed = rewrite(original, entries -> {
                Map<String, byte[]> out = new LinkedHashMap<>();
                entries.forEach((name, bytes) -> out.put(prefix + name.substring("conv_bn/".length()), bytes));
                return out;
            });
            assertTrue(entries(renamed).containsKey(prefix + "data.pkl"));
            Map<String, TorchTensor> state = TorchCheckpoint.read(renamed, "renamed.pt");
            assertEquals(expected.keySet(), state.keySet());
            expected.forEach((key, tensor) -> assertArrayEquals(tensor.values(), state.get(key).values(), key));
        }
    }

    @Test
    void resnetFixturesHaveTorchvisionsNamesAndShapes() {
        Map<String, TorchTensor> r18 = TorchCheckpoint.read(resource("resnet18-w4/state_dict.pt"), "resnet18-w4");
        assertEquals(122, r18.size());
        assertEquals(45_099, r18.values().stream().mapToLong(TorchTensor::numel).sum());
        assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                "bn1.num_batches_tracked", "layer1.0.conv1.weight"), List.copyOf(r18.keySet()).subList(0, 7));
        assertEquals("[4, 1, 7, 7]", r18.get("conv1.weight").shapeString());
        assertEquals("[8, 4, 1, 1]", r18.get("layer2.0.downsample.0.weight").shapeString());
        assertEquals("[3, 32]", r18.get("fc.weight").shapeString());
        r18.forEach((key, tensor) -> {
            if (key.endsWith("running_var")) {
                for (float v : tensor.values()) {
                    assertTrue(v >= 0.5f && v <= 2f, key + " " + v); // the fixture's uniform(0.5, 2)
                }
            }
        });
        assertEquals(4 * 48 * 48 * Float.BYTES, resource("resnet18-w4/inputs.f32").length);

        Map<String, TorchTensor> r50 = TorchCheckpoint.read(resource("resnet50-w2/state_dict.pt"), "resnet50-w2");
        assertEquals(320, r50.size());
        assertEquals("[8, 2, 1, 1]", r50.get("layer1.0.downsample.0.weight").shapeString());
        assertEquals("[3, 64]", r50.get("fc.weight").shapeString());
        Map<String, TorchTensor> rgb = TorchCheckpoint.read(resource("resnet18-w4-rgb/state_dict.pt"), "rgb");
        assertEquals("[4, 3, 7, 7]", rgb.get("conv1.weight").shapeString());
    }

    @Test
    void theLegacyFormatIsRefusedWithHowToResave() {
        byte[] tar = new byte[1024];
        System.arraycopy("ustar".getBytes(StandardCharsets.US_ASCII), 0, tar, 257, 5);
        for (byte[] file : List.of(fixture("legacy.pt"), tar)) {
            String message = refusal(file, "old.pth");
            assertTrue(message.startsWith("old.pth is in PyTorch's legacy format"), message);
            assertTrue(message.contains("torch.save(torch.load(f), g)"), message);
        }
        String message = refusal("not a checkpoint".getBytes(StandardCharsets.US_ASCII), "notes.txt");
        assertTrue(message.startsWith("notes.txt is not a PyTorch checkpoint"), message);
    }

    @Test
    void aPickledModelIsRefusedByItsClass() {
        String message = refusal(fixture("module.pt"), "module.pt");
        assertTrue(message.startsWith("module.pt holds a pickled torch.nn.modules.conv.Conv2d, not a state_dict"),
                message);
        assertTrue(message.contains("torch.save(model.state_dict(), f)"), message);
    }

    @Test
    void aNonTensorValueIsNamed() {
        String message = refusal(fixture("not_tensor.pt"), "not_tensor.pt");
        assertEquals("not_tensor.pt: state_dict entry 'note' is a string, not a tensor", message);
    }

    @Test
    void aMissingStorageNamesItsTensorAndEntry() {
        byte[] file = rewrite(fixture("conv_bn.pt"), entries -> without(entries, "conv_bn/data/2"));
        String message = refusal(file, "cut.pt");
        assertEquals("cut.pt: tensor 'bn.weight' is stored in conv_bn/data/2, which the zip lacks", message);
        String noPickle = refusal(rewrite(fixture("conv_bn.pt"), e -> without(e, "conv_bn/data.pkl")), "cut.pt");
        assertTrue(noPickle.startsWith("cut.pt: expected one <prefix>/data.pkl entry"), noPickle);
    }

    @Test
    void aStorageShorterThanItsViewNamesTheTensor() {
        byte[] file = rewrite(fixture("conv_bn.pt"), entries -> {
            entries.put("conv_bn/data/0", Arrays.copyOf(entries.get("conv_bn/data/0"), 200)); // 54 floats: 216
            return entries;
        });
        assertEquals("short.pt: tensor 'conv.weight' (float32 [3, 2, 3, 3], offset 0, strides [18, 9, 3, 1]) reads "
                + "up to byte 216 of conv_bn/data/0, which holds 200 (truncated or corrupt file?)",
                refusal(file, "short.pt"));
    }

    @Test
    void aTruncatedZipNamesTheEntryWhereItBreaksOff() {
        byte[] file = fixture("conv_bn.pt");
        // Cut 20 bytes before data/1's local header (30 bytes before its name): inside data/0's bytes.
        int cut = indexOf(file, "conv_bn/data/1".getBytes(StandardCharsets.US_ASCII)) - 30 - 20;
        String message = refusal(Arrays.copyOf(file, cut), "cut.pt");
        assertTrue(message.startsWith("cut.pt breaks off at entry conv_bn/data/0: the zip's central directory"),
                message);
    }

    @Test
    void aDamagedStorageFailsItsChecksum() {
        byte[] file = fixture("conv_bn.pt");
        int at = indexOf(file, Arrays.copyOf(entries(file).get("conv_bn/data/0"), 16));
        file[at + 5] ^= 1;
        assertEquals("damaged.pt: entry conv_bn/data/0 does not match its checksum or size (damaged file?)",
                refusal(file, "damaged.pt"));
    }

    @Test
    void aBigEndianCheckpointIsRefused() {
        byte[] file = rewrite(fixture("conv_bn.pt"), entries -> {
            entries.put("conv_bn/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
            return entries;
        });
        String message = refusal(file, "big.pt");
        assertTrue(message.startsWith("big.pt: conv_bn/byteorder says 'big'; only little-endian"), message);
        byte[] little = rewrite(fixture("conv_bn.pt"), entries -> {
            entries.put("conv_bn/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            return entries;
        });
        assertEquals(7, TorchCheckpoint.read(little, "little.pt").size());
    }

    private static Map<String, TorchTensor> read(String fixture) {
        return TorchCheckpoint.read(fixture(fixture), fixture);
    }

    private static String refusal(byte[] file, String name) {
        return assertThrows(ModelLoadException.class, () -> TorchCheckpoint.read(file, name)).getMessage();
    }

    /** Compares with what torch read (NAME.json): the same keys in order, dtypes, shapes, and bit-exact values. */
    private static void assertMatchesTorch(String fixture, Map<String, TorchTensor> state) {
        JsonNode expected;
        try {
            expected = JSON.readTree(fixture(fixture + ".json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> keys = new ArrayList<>();
        expected.fieldNames().forEachRemaining(keys::add);
        assertEquals(keys, List.copyOf(state.keySet()));
        for (String key : keys) {
            JsonNode want = expected.get(key);
            TorchTensor tensor = state.get(key);
            assertEquals(want.get("dtype").asText(), tensor.dtype(), key);
            long[] shape = new long[want.get("shape").size()];
            Arrays.setAll(shape, i -> want.get("shape").get(i).asLong());
            assertArrayEquals(shape, tensor.shape(), key);
            float[] values = new float[want.get("values").size()];
            // Integers are exact in JSON and rounded like Java's (float) long; floats as doubles, then to float.
            for (int i = 0; i < values.length; i++) {
                JsonNode v = want.get("values").get(i);
                values[i] = v.isIntegralNumber() ? (float) v.asLong() : (float) v.asDouble();
            }
            assertArrayEquals(values, tensor.values(), key); // bitwise: -0.0 differs from 0.0, NaN equals NaN
        }
    }

    private static byte[] fixture(String name) {
        return resource("reader/" + name);
    }

    private static byte[] resource(String path) {
        try (InputStream in = TorchCheckpointTest.class.getResourceAsStream("/torch/" + path)) {
            if (in == null) {
                throw new IllegalStateException("no test resource torch/" + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A zip's entries in order, through ZipFile (ZipInputStream refuses torch's stored entries). */
    private Map<String, byte[]> entries(byte[] zip) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try {
            Path path = Files.write(Files.createTempFile(tmp, "checkpoint", ".zip"), zip);
            try (ZipFile file = new ZipFile(path.toFile())) {
                for (ZipEntry e : Collections.list(file.entries())) {
                    entries.put(e.getName(), file.getInputStream(e).readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    private byte[] rewrite(byte[] zip, Function<Map<String, byte[]>, Map<String, byte[]>> change) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : change.apply(entries(zip)).entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static Map<String, byte[]> without(Map<String, byte[]> entries, String entry) {
        assertTrue(entries.remove(entry) != null, entry);
        return entries;
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        for (int i = 0; i + pattern.length <= data.length; i++) {
            if (Arrays.equals(data, i, i + pattern.length, pattern, 0, pattern.length)) {
                return i;
            }
        }
        throw new IllegalArgumentException("pattern not found");
    }
}
