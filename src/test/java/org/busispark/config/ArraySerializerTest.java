package org.busispark.config;

import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.List;

import static org.busispark.config.BusiKryoRegistratorTest.kryo;
import static org.busispark.config.BusiKryoRegistratorTest.roundTrip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Arrays of every kind come back from Spark's Kryo with their type, order, shape and values. */
class ArraySerializerTest {
    @Test
    void everyKindOfArrayRoundTrips() {
        SerializerInstance ser = kryo();
        Nd4j.getRandom().setSeed(1);
        INDArray matrix = Nd4j.rand(DataType.FLOAT, 5, 7);
        List<INDArray> arrays = List.of(
                matrix,
                Nd4j.rand(DataType.DOUBLE, 'f', 3, 4, 2),
                matrix.get(NDArrayIndex.interval(1, 4), NDArrayIndex.all()), // a view at an offset
                matrix.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2, 7)), // strided: every second column
                matrix.transpose(),
                Nd4j.rand(DataType.FLOAT, 1, 3_000_001), // more than one chunk, not a multiple of it
                Nd4j.createFromArray(1, -2, 3),
                Nd4j.createFromArray(true, false, true),
                Nd4j.scalar(2.5f),
                Nd4j.create(DataType.FLOAT, 0)); // empty: ND4J's own format
        for (INDArray a : arrays) {
            assertEquals(!a.isEmpty(), ArraySerializer.raw(a), "raw bytes for " + a.shapeInfoToString());
            INDArray back = roundTrip(ser, a);
            assertEquals(a.dataType(), back.dataType(), "type of " + a.shapeInfoToString());
            assertArrayEquals(a.shape(), back.shape(), "shape of " + a.shapeInfoToString());
            assertEquals(a, back, "values of " + a.shapeInfoToString());
            if (!a.isView() && !a.isEmpty() && a.rank() > 1) {
                assertEquals(a.ordering(), back.ordering(), "order of " + a.shapeInfoToString());
            }
        }
    }

    /** dl4j-spark's minibatches carry their arrays inside DataSets. */
    @Test
    void dataSetsRoundTrip() {
        DataSet d = new DataSet(Nd4j.rand(DataType.FLOAT, 4, 1, 8, 8), Nd4j.eye(4).castTo(DataType.FLOAT));
        DataSet back = roundTrip(kryo(), d);
        assertEquals(d.getFeatures(), back.getFeatures());
        assertEquals(d.getLabels(), back.getLabels());
    }
}
