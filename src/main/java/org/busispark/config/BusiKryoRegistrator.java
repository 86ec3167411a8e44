package org.busispark.config;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.nd4j.kryo.Nd4jRegistrator;

/**
 * ND4J's registrator (INDArrays off-heap) plus Java records: Spark's Kryo 4 cannot set a record's final
 * fields, so records travel with Java serialisation, which constructs them through their canonical constructor.
 */
public final class BusiKryoRegistrator extends Nd4jRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        super.registerClasses(kryo);
        kryo.addDefaultSerializer(Record.class, JavaSerializer.class);
    }
}
