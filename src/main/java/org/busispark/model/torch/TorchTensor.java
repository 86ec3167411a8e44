package org.busispark.model.torch;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a PyTorch checkpoint.
 *
 * @param dtype  torch's name of the stored type: float32, float16, bfloat16, float64, int64, int32, int16, int8,
 *               uint8 or bool
 * @param shape  the size of each dimension; empty for a scalar
 * @param values the elements in row-major (C) order as float: integers and bools by their numeric value, float64
 *               and int64 rounded to the nearest float. Shared, not copied (a ResNet-50 holds 100 MB of them):
 *               whoever changes the array changes this tensor
 */
public record TorchTensor(String dtype, long[] shape, float[] values) {
    public TorchTensor {
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        if (values.length != product(shape)) {
            throw new IllegalArgumentException(values.length + " values for shape " + Arrays.toString(shape));
        }
    }

    /** A copy: the shape is small, and stays the tensor's own. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return values.length;
    }

    /** Like "[64, 3, 7, 7]", for messages. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    private static long product(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
