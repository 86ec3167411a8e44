package org.busispark.model.torch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;
import org.busispark.model.ModelLoadException;

/**
 * Reads the tensors of a PyTorch checkpoint, as torch.save writes it since torch 1.6, without Python.
 *
 * <p>The file is a zip: {@code <prefix>/data.pkl} pickles the saved object, with each tensor's storage replaced
 * by a persistent id {@code ('storage', torch.FloatStorage, key, location, numel)} whose bytes lie, little-endian,
 * in {@code <prefix>/data/<key>}. The prefix is the archive's name ({@code archive}, {@code resnet18-f37072fd}, ...).
 * Nothing in the pickle is executed: the classes it names are only matched by name.
 *
 * <p>The checkpoint holds a state_dict, a dict of tensors (an {@code OrderedDict} from
 * {@code model.state_dict()}, or a plain dict); or a training checkpoint, a dict whose {@code "state_dict"} or
 * {@code "model"} value is a state_dict (its other values, an optimizer's state or argparse arguments, are
 * ignored). A pickled model ({@code torch.save(model)}) is refused: it needs its Python classes.
 */
public final class TorchCheckpoint {
    /** The legacy format's pickle: protocol 2, then the LONG1 of the magic number 0x1950a86a20f9469cfc6c. */
    private static final byte[] LEGACY_MAGIC = {(byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
            (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    private TorchCheckpoint() {
    }

    /**
     * The state_dict of a torch.save file, in the pickle's key order.
     *
     * @param file the whole file
     * @param name its name, for messages
     * @throws ModelLoadException naming the file and the entry or tensor, when the file is not a torch.save zip
     *                            (among them the legacy format of torch before 1.6), holds no state_dict, or is
     *                            corrupt or truncated
     */
    public static LinkedHashMap<String, TorchTensor> read(byte[] file, String name) {
        requireZip(file, name);
        MemoryZip zip = MemoryZip.open(file, name);
        List<String> pickles = zip.names().stream().filter(e -> e.endsWith("/data.pkl")).sorted().toList();
        if (pickles.size() != 1) {
            throw new ModelLoadException(name + ": expected one <prefix>/data.pkl entry, as torch.save writes, found "
                    + (pickles.isEmpty() ? "none" : pickles));
        }
        String pickle = pickles.get(0);
        String prefix = pickle.substring(0, pickle.length() - "data.pkl".length());
        // Newer torch records its storages' byte order; older torch wrote the machine's own, in practice little.
        ByteBuffer byteOrderEntry = zip.read(prefix + "byteorder");
        String byteOrder = byteOrderEntry == null ? "little" : StandardCharsets.US_ASCII.decode(byteOrderEntry)
                .toString();
        if (!byteOrder.equals("little")) {
            throw new ModelLoadException(name + ": " + prefix + "byteorder says '" + byteOrder + "'; only "
                    + "little-endian checkpoints can be read: re-save it on a little-endian machine (x86, ARM)");
        }

        Map<String, View> views = stateDict(unpickle(zip.read(pickle), name, pickle), name);
        Map<String, ByteBuffer> storages = new HashMap<>(); // tensors that view one storage share its buffer
        LinkedHashMap<String, TorchTensor> tensors = new LinkedHashMap<>();
        views.forEach((key, view) -> {
            String entry = prefix + "data/" + view.storage().key();
            ByteBuffer bytes = storages.computeIfAbsent(entry, zip::read);
            if (bytes == null) {
                throw new ModelLoadException(name + ": tensor '" + key + "' is stored in " + entry
                        + ", which the zip lacks");
            }
            tensors.put(key, view.materialise(bytes, name, key, entry));
        });
        return tensors;
    }

    private static void requireZip(byte[] file, String name) {
        if (startsWith(file, 0, new byte[] {'P', 'K', 3, 4})) {
            return;
        }
        boolean legacy = file.length > 2 && file[0] == (byte) 0x80 && startsWith(file, 2, LEGACY_MAGIC);
        boolean tar = startsWith(file, 257, "ustar".getBytes(StandardCharsets.US_ASCII));
        if (legacy || tar) {
            throw new ModelLoadException(name + " is in PyTorch's legacy format (torch before 1.6), which cannot be "
                    + "read here; re-save it with torch 1.6 or later: torch.save(torch.load(f), g)");
        }
        throw new ModelLoadException(name + " is not a PyTorch checkpoint: torch.save writes a zip file");
    }

    private static boolean startsWith(byte[] file, int at, byte[] prefix) {
        return file.length >= at + prefix.length
                && Arrays.equals(file, at, at + prefix.length, prefix, 0, prefix.length);
    }

    private static Object unpickle(ByteBuffer pickle, String name, String entry) {
        byte[] bytes = new byte[pickle.remaining()];
        pickle.get(bytes);
        try {
            return new TorchUnpickler().loads(bytes);
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException(name + ": cannot unpickle " + entry + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, View> stateDict(Object root, String name) {
        if (!(root instanceof Map<?, ?> top)) {
            throw new ModelLoadException(name + " holds " + describe(root) + ", not a state_dict (a dict of "
                    + "tensors)" + (root instanceof PythonObject ? "; save the model's weights instead: "
                    + "torch.save(model.state_dict(), f)" : ""));
        }
        String where = "state_dict";
        Map<?, ?> dict = top;
        for (String key : List.of("state_dict", "model")) {
            if (top.get(key) instanceof Map<?, ?> inner) {
                where = "'" + key + "'";
                dict = inner;
                break;
            }
        }
        Map<String, View> views = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new ModelLoadException(name + ": " + where + " has a key " + e.getKey() + " that is not a "
                        + "string");
            }
            if (!(e.getValue() instanceof View view)) {
                throw new ModelLoadException(name + ": " + where + " entry '" + key + "' is "
                        + describe(e.getValue()) + ", not a tensor");
            }
            views.put(key, view);
        }
        return views;
    }

    private static String describe(Object value) {
        if (value instanceof PythonObject o) {
            return "a pickled " + o.className();
        }
        if (value instanceof View) {
            return "a tensor";
        }
        if (value instanceof Map) {
            return "a dict";
        }
        if (value instanceof List) {
            return "a list";
        }
        if (value instanceof Object[]) {
            return "a tuple";
        }
        if (value instanceof String) {
            return "a string";
        }
        return value instanceof Storage ? "a storage" : "the value " + value;
    }

    /**
     * Pyrolite's unpickler with torch's objects, and dicts that keep their order (Pyrolite makes HashMaps).
     * Globals resolve per unpickler rather than through Pyrolite's static registry, which would change every
     * unpickler in the JVM, Spark's among them. Pyrolite 1.3 hands persistentLoad the persistent id's toString(),
     * so BINPERSID reads torch's tuple off the stack here.
     */
    private static final class TorchUnpickler extends Unpickler {
        @Override
        protected Object dispatch(short opcode) throws IOException {
            switch (opcode) {
                case Opcodes.GLOBAL -> stack.add(new Global(PickleUtils.readline(input) + "."
                        + PickleUtils.readline(input)));
                case Opcodes.STACK_GLOBAL -> {
                    Object className = stack.pop();
                    stack.add(new Global(stack.pop() + "." + className));
                }
                case Opcodes.BINPERSID -> stack.add(Storage.of(stack.pop()));
                case Opcodes.EMPTY_DICT -> stack.add(new LinkedHashMap<>());
                case Opcodes.DICT -> {
                    Map<Object, Object> dict = new LinkedHashMap<>();
                    putAll(dict, stack.pop_all_since_marker());
                    stack.add(dict);
                }
                case Opcodes.SETITEMS -> {
                    List<Object> items = stack.pop_all_since_marker();
                    @SuppressWarnings("unchecked")
                    Map<Object, Object> dict = (Map<Object, Object>) stack.peek();
                    putAll(dict, items);
                }
                // Attributes set after construction (a state_dict's _metadata, a pickled object's fields): unused.
                case Opcodes.BUILD -> stack.pop();
                default -> {
                    return super.dispatch(opcode);
                }
            }
            return NO_RETURN_VALUE;
        }

        private static void putAll(Map<Object, Object> dict, List<Object> keysAndValues) {
            for (int i = 0; i < keysAndValues.size(); i += 2) {
                dict.put(keysAndValues.get(i), keysAndValues.get(i + 1));
            }
        }
    }

    /** A Python class or function named by the pickle; calling it builds torch's objects or a placeholder. */
    private record Global(String name) implements IObjectConstructor {
        @Override
        public Object construct(Object[] args) {
            return switch (name) {
                case "collections.OrderedDict" -> {
                    if (args.length != 0) {
                        throw new PickleException("OrderedDict built from arguments, which torch.save does not do");
                    }
                    yield new LinkedHashMap<>(); // torch pickles the items next (SETITEMS), then _metadata (BUILD)
                }
                case "torch._utils._rebuild_tensor_v2" -> View.of(args);
                case "torch._utils._rebuild_parameter" -> args[0];
                // Anything else is kept as a name, so that a training checkpoint's unused parts (argparse
                // arguments, numpy scalars) do no harm, and a pickled model is refused by its class name.
                default -> new PythonObject(name);
            };
        }
    }

    /** An instance of a class this reader does not build. */
    private record PythonObject(String className) {
    }

    /** Torch's persistent id of a storage: its class (torch.FloatStorage, ...) and its zip entry's key. */
    private record Storage(String type, String key) {
        static Storage of(Object pid) {
            if (pid instanceof Object[] id && id.length == 5 && "storage".equals(id[0]) && id[1] instanceof Global g) {
                return new Storage(g.name(), String.valueOf(id[2]));
            }
            throw new PickleException("unknown persistent id " + (pid instanceof Object[] id
                    ? Arrays.deepToString(id) : pid) + "; torch.save writes ('storage', type, key, location, numel)");
        }
    }

    /** A tensor as torch pickles it: a strided view of a storage. */
    private record View(Storage storage, long offset, long[] size, long[] stride) {
        /** torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, meta]). */
        static View of(Object[] args) {
            if (args.length < 4 || !(args[0] instanceof Storage storage)) {
                throw new PickleException("_rebuild_tensor_v2 without a storage: " + Arrays.deepToString(args));
            }
            return new View(storage, ((Number) args[1]).longValue(), longs(args[2]), longs(args[3]));
        }

        private static long[] longs(Object tuple) {
            return Arrays.stream((Object[]) tuple).mapToLong(n -> ((Number) n).longValue()).toArray();
        }

        TorchTensor materialise(ByteBuffer bytes, String name, String key, String entry) {
            DType type = DType.ofStorage(storage.type());
            if (type == null) {
                throw new ModelLoadException(name + ": tensor '" + key + "' is a " + storage.type()
                        + ", which this reader does not support; it reads " + DType.names());
            }
            String what = name + ": tensor '" + key + "' (" + type.torchName + " " + Arrays.toString(size)
                    + ", offset " + offset + ", strides " + Arrays.toString(stride) + ")";
            if (size.length != stride.length || offset < 0 || Arrays.stream(size).anyMatch(d -> d < 0)
                    || Arrays.stream(stride).anyMatch(s -> s < 0)) {
                throw new ModelLoadException(what + " is not a valid view of a storage");
            }
            long numel = 1;
            long end = offset + 1; // one past the largest element index the view reads
            try {
                for (int d = 0; d < size.length; d++) {
                    numel = Math.multiplyExact(numel, size[d]);
                    end = Math.addExact(end, Math.multiplyExact(Math.max(size[d] - 1, 0), stride[d]));
                }
                end = Math.multiplyExact(end, type.size);
                if (numel > Integer.MAX_VALUE - 8) {
                    throw new ArithmeticException();
                }
            } catch (ArithmeticException e) {
                throw new ModelLoadException(what + " has too many elements for one Java array");
            }
            if (numel > 0 && end > bytes.limit()) {
                throw new ModelLoadException(what + " reads up to byte " + end + " of " + entry + ", which holds "
                        + bytes.limit() + " (truncated or corrupt file?)");
            }
            return new TorchTensor(type.torchName, size, values(bytes, type, (int) numel));
        }

        /** Walks the view in row-major order; the storage index moves by one stride per step of a dimension. */
        private float[] values(ByteBuffer data, DType type, int numel) {
            float[] out = new float[numel];
            if (type == DType.FLOAT32 && numel > 0 && contiguous()) { // a state_dict's usual case: one bulk copy
                data.duplicate().order(ByteOrder.LITTLE_ENDIAN).position((int) offset * 4).asFloatBuffer().get(out);
                return out;
            }
            long[] index = new long[size.length];
            long at = offset;
            for (int i = 0; i < numel; i++) {
                out[i] = type.read(data, (int) at);
                for (int d = size.length - 1; d >= 0; d--) {
                    if (++index[d] < size[d]) {
                        at += stride[d];
                        break;
                    }
                    index[d] = 0;
                    at -= (size[d] - 1) * stride[d];
                }
            }
            return out;
        }

        private boolean contiguous() {
            long expected = 1;
            for (int d = size.length - 1; d >= 0; d--) {
                if (size[d] != 1 && stride[d] != expected) {
                    return false;
                }
                expected *= size[d];
            }
            return true;
        }
    }

    private enum DType {
        FLOAT32("float32", "FloatStorage", 4),
        FLOAT16("float16", "HalfStorage", 2),
        BFLOAT16("bfloat16", "BFloat16Storage", 2),
        FLOAT64("float64", "DoubleStorage", 8),
        INT64("int64", "LongStorage", 8),
        INT32("int32", "IntStorage", 4),
        INT16("int16", "ShortStorage", 2),
        INT8("int8", "CharStorage", 1),
        UINT8("uint8", "ByteStorage", 1),
        BOOL("bool", "BoolStorage", 1);

        final String torchName;
        final String storageClass;
        final int size;

        DType(String torchName, String storageClass, int size) {
            this.torchName = torchName;
            this.storageClass = "torch." + storageClass;
            this.size = size;
        }

        static DType ofStorage(String storageClass) {
            return Arrays.stream(values()).filter(t -> t.storageClass.equals(storageClass)).findFirst().orElse(null);
        }

        static String names() {
            return Arrays.stream(values()).map(t -> t.torchName).toList().toString();
        }

        float read(ByteBuffer data, int element) {
            int at = element * size;
            return switch (this) {
                case FLOAT32 -> data.getFloat(at);
                case FLOAT16 -> halfToFloat(data.getShort(at));
                case BFLOAT16 -> Float.intBitsToFloat((data.getShort(at) & 0xffff) << 16);
                case FLOAT64 -> (float) data.getDouble(at);
                case INT64 -> data.getLong(at);
                case INT32 -> data.getInt(at);
                case INT16 -> data.getShort(at);
                case INT8 -> data.get(at);
                case UINT8 -> data.get(at) & 0xff;
                case BOOL -> data.get(at) != 0 ? 1 : 0;
            };
        }
    }

    /** IEEE binary16 to float, exactly (Java 20's Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int sign = (half & 0x8000) << 16;
        int exponent = (half >>> 10) & 0x1f;
        int mantissa = half & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | mantissa << 13); // infinities and NaNs
        }
        if (exponent == 0) {
            float subnormal = mantissa * 0x1p-24f; // zeros and subnormals: mantissa * 2^-24, exact in float
            return sign == 0 ? subnormal : -subnormal;
        }
        return Float.intBitsToFloat(sign | (exponent + 127 - 15) << 23 | mantissa << 13);
    }
}
