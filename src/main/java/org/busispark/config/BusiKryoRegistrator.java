package org.busispark.config;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import de.javakaffee.kryoserializers.SynchronizedCollectionsSerializer;
import de.javakaffee.kryoserializers.UnmodifiableCollectionsSerializer;
import org.apache.spark.serializer.KryoRegistrator;
import org.nd4j.common.primitives.AtomicDouble;
import org.nd4j.kryo.primitives.AtomicDoubleSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What ND4J's {@code Nd4jRegistrator} registers (INDArrays live off-heap; ND4J's atomics; unmodifiable and
 * synchronized collections) plus Java records: Spark's Kryo 4 cannot set a record's final fields, so records
 * travel with Java serialisation, which constructs them through their canonical constructor.
 *
 * <p>Arrays get their serializer by interface, not by the backend's array class: looking that class up
 * ({@code Nd4j.getBackend()}) loads ND4J's natives, about half a second that every job paid at its first
 * broadcast, ingest included, which never touches an array.
 */
public final class BusiKryoRegistrator implements KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        kryo.addDefaultSerializer(INDArray.class, ArraySerializer.class);
        kryo.register(AtomicDouble.class, new AtomicDoubleSerializer());
        UnmodifiableCollectionsSerializer.registerSerializers(kryo);
        SynchronizedCollectionsSerializer.registerSerializers(kryo);
        kryo.addDefaultSerializer(Record.class, JavaSerializer.class);
    }
}
