package org.busispark.config;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.kryo.Nd4jSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.BiConsumer;

/**
 * Kryo serializer for ND4J arrays that copies their memory in bulk. ND4J's own ({@link Nd4jSerializer}) writes one
 * element at a time through a DataOutputStream: 0.5 s each way for a ResNet-18's parameters and updater state
 * (135 MB), which dl4j-spark broadcasts and collects from every worker in every averaging round (most of a round's
 * fixed cost here; docs/benchmarks.md). Numeric arrays travel as data type, order, shape and raw bytes in the
 * writer's byte order (the reader checks it); other arrays (empty, compressed, strings) go through ND4J's format.
 */
public final class ArraySerializer extends Serializer<INDArray> {
    private static final byte ND4J = 0, RAW = 1;
    private static final int CHUNK = 1 << 20;
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private final Nd4jSerializer nd4j = new Nd4jSerializer();

    @Override
    public void write(Kryo kryo, Output output, INDArray array) {
        if (!raw(array)) {
            output.writeByte(ND4J);
            nd4j.write(kryo, output, array);
            return;
        }
        output.writeByte(RAW);
        output.writeBoolean(LITTLE_ENDIAN);
        output.writeString(array.dataType().name());
        output.writeChar(array.ordering());
        long[] shape = array.shape();
        output.writeInt(shape.length, true);
        for (long d : shape) {
            output.writeLong(d, true);
        }
        // a view or strided array is copied first, so that its elements lie in one block in its own order
        INDArray plain = Shape.hasDefaultStridesForShape(array) ? array : array.dup(array.ordering());
        copy(plain, (chunk, memory) -> {
            int n = memory.capacity();
            memory.get(chunk, 0, n);
            output.writeBytes(chunk, 0, n);
        });
    }

    @Override
    public INDArray read(Kryo kryo, Input input, Class<INDArray> type) {
        if (input.readByte() == ND4J) {
            return nd4j.read(kryo, input, type);
        }
        if (input.readBoolean() != LITTLE_ENDIAN) {
            throw new IllegalStateException("an array written on a machine of the other byte order");
        }
        DataType dataType = DataType.valueOf(input.readString());
        char order = input.readChar();
        long[] shape = new long[input.readInt(true)];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = input.readLong(true);
        }
        INDArray array = Nd4j.createUninitializedDetached(dataType, order, shape);
        copy(array, (chunk, memory) -> {
            int n = memory.capacity();
            input.readBytes(chunk, 0, n);
            memory.put(chunk, 0, n);
        });
        return array;
    }

    /** Whether {@code array} travels as raw bytes. */
    static boolean raw(INDArray array) {
        return !array.isEmpty() && !array.isCompressed()
                && (array.dataType().isNumerical() || array.dataType() == DataType.BOOL);
    }

    /**
     * Walks a dense array's memory in pieces of at most 1 MB: {@code step} gets one heap buffer, reused, and each
     * piece's native memory (as many bytes as its capacity) to copy between them.
     */
    private static void copy(INDArray dense, BiConsumer<byte[], ByteBuffer> step) {
        long total = bytes(dense);
        byte[] chunk = new byte[(int) Math.min(CHUNK, total)];
        long address = address(dense);
        for (long done = 0; done < total; done += chunk.length) {
            step.accept(chunk, memory(address + done, (int) Math.min(chunk.length, total - done)));
        }
    }

    private static long bytes(INDArray array) {
        return array.length() * array.dataType().width();
    }

    private static long address(INDArray array) {
        return array.data().address() + array.offset() * array.data().getElementSize();
    }

    /** {@code length} bytes of native memory at {@code address}, as a buffer to copy from or into. */
    private static ByteBuffer memory(long address, int length) {
        return new At(address, length).asByteBuffer();
    }

    private static final class At extends BytePointer {
        At(long address, long length) {
            this.address = address;
            this.limit = length;
            this.capacity = length;
        }
    }
}
