package org.busispark.config;

import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.busispark.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import scala.reflect.ClassTag$;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BusiKryoRegistratorTest {
    record Pair(String name, int count) implements java.io.Serializable {}

    static SerializerInstance kryo() {
        return new KryoSerializer(new SparkConf()
                .set("spark.kryo.registrator", BusiKryoRegistrator.class.getName())).newInstance();
    }

    @SuppressWarnings("unchecked")
    static <T> T roundTrip(SerializerInstance ser, T value) {
        var tag = ClassTag$.MODULE$.<T>apply(Object.class);
        return (T) ser.deserialize(ser.serialize(value, tag), tag);
    }

    /** Arrays (off-heap, by interface), records and unmodifiable collections survive Spark's Kryo. */
    @Test
    void arraysRecordsAndUnmodifiableCollectionsRoundTrip() {
        SerializerInstance ser = kryo();
        INDArray a = Nd4j.rand(DataType.FLOAT, 3, 4);
        INDArray back = roundTrip(ser, a);
        assertEquals(a, back, "the same values and shape");
        assertEquals(new Pair("x", 3), roundTrip(ser, new Pair("x", 3)));
        List<String> list = Collections.unmodifiableList(new java.util.ArrayList<>(List.of("a", "b")));
        assertEquals(list, roundTrip(ser, list));
    }

    /** Serialising with the registrator never loads an ND4J backend (its natives cost half a second). */
    @Test
    void serialisingWithoutArraysLoadsNoNd4jBackend() throws Exception {
        List<String> cmd = new java.util.ArrayList<>(ChildJvm.command("256m", SerializeSomething.class.getName()));
        cmd.add(1, "-Xlog:class+load=info");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out.substring(Math.max(0, out.length() - 2000)));
        assertTrue(out.contains("serialised 2 values"), "the child ran");
        assertTrue(out.contains(BusiKryoRegistrator.class.getName()), "the registrator was loaded");
        assertFalse(out.contains("org.nd4j.linalg.factory.Nd4jBackend "), "no ND4J backend looked up");
        assertFalse(out.contains("org.nd4j.linalg.cpu.nativecpu."), "no CPU backend loaded");
    }

    /** The child JVM: Spark's Kryo with the registrator, as a first broadcast uses it. */
    public static final class SerializeSomething {
        public static void main(String[] args) {
            SerializerInstance ser = kryo();
            roundTrip(ser, "a path");
            roundTrip(ser, new Pair("y", 1));
            System.out.println("serialised 2 values");
        }
    }
}
