package org.busispark.model.onednn;

import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * oneDNN (JavaCPP's build of it) as this package uses it: one CPU engine, one stream and one set of scratch buffers
 * per thread (a stream is not thread-safe; scratch is shared by all layers of a thread, which run one at a time).
 */
final class OneDnn {
    private static final Logger LOG = LoggerFactory.getLogger(OneDnn.class);
    /** Scratch slots a layer uses at once: blocked copies of inputs, weights, outputs and their gradients. */
    static final int SLOTS = 6;

    private static volatile engine engine;
    private static final ThreadLocal<stream> STREAM = ThreadLocal.withInitial(() -> new stream(engine()));
    private static final ThreadLocal<BytePointer[]> SCRATCH = ThreadLocal.withInitial(() -> new BytePointer[SLOTS]);
    private static final ThreadLocal<Integer> TEAM = new ThreadLocal<>();

    private OneDnn() {}

    /** Loads the natives once; false (with the reason logged once) where they cannot load. */
    static boolean available() {
        return Natives.LOADED;
    }

    /** Initialised on first use, once: the class-holder idiom. */
    private static final class Natives {
        static final boolean LOADED = load();

        private static boolean load() {
            try {
                engine();
                return true;
            } catch (Throwable t) {
                LOG.warn("oneDNN (org.bytedeco:dnnl) unavailable, training stays on ND4J's path: {}", t.toString());
                return false;
            }
        }
    }

    static engine engine() {
        engine e = engine;
        if (e == null) {
            synchronized (OneDnn.class) {
                if (engine == null) {
                    engine = new engine(org.bytedeco.dnnl.engine.kind.cpu, 0);
                }
                e = engine;
            }
        }
        return e;
    }

    /**
     * Sets the calling thread's OpenMP team (ND4J's and oneDNN's share one OpenMP runtime) once, before the thread
     * builds its first primitive: oneDNN splits a primitive's work for the team size it sees at creation. ND4J
     * itself asks for 4 threads on a 2-core machine, and a team larger than the cores it runs on waits at every
     * barrier for a thread the OS has parked (training 65 against 50 images/s here, docs/benchmarks.md).
     */
    static void team(int threads) {
        if (TEAM.get() == null) {
            NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
            TEAM.set(threads);
        }
    }

    static stream stream() {
        return STREAM.get();
    }

    /** This thread's scratch buffer {@code slot}, grown to at least {@code bytes}. */
    static Pointer scratch(int slot, long bytes) {
        BytePointer[] slots = SCRATCH.get();
        BytePointer p = slots[slot];
        if (p == null || p.capacity() < bytes) {
            if (p != null) {
                p.close();
            }
            // 64-byte aligned: oneDNN's kernels load whole cache lines of blocked layouts.
            p = new BytePointer(bytes + 64);
            slots[slot] = p;
        }
        return address(p.address() + (-p.address() & 63));
    }

    /** A memory in a plain user layout whose data handle is set per call ({@link #bind}). */
    static memory userMemory(memory.desc desc) {
        return new memory(desc, engine(), new Pointer());
    }

    /** Points {@code m} at the first element of a float array (its offset included). */
    static void bind(memory m, INDArray array) {
        m.set_data_handle(address(array.data().address() + array.offset() * array.data().getElementSize()));
    }

    /** The array itself where it is c-ordered and contiguous, else such a copy: oneDNN reads plain layouts. */
    static INDArray contiguous(INDArray a) {
        return Shape.hasDefaultStridesForShape(a) ? a : a.dup('c');
    }

    private static Pointer address(long address) {
        return new Address(address);
    }

    /** A raw address: JavaCPP adds a typed pointer's position in elements, a void pointer's in bytes. */
    private static final class Address extends Pointer {
        Address(long address) {
            this.address = address;
        }
    }
}
