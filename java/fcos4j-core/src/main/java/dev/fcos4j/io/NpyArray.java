package dev.fcos4j.io;

import java.util.Arrays;

/**
 * One numpy array read from (or to be written to) a .npy file or a .npz entry, its values widened or narrowed
 * to float32 in C (row-major) order.
 *
 * @param name  the array name (the .npz entry name without {@code .npy}; the file name for a .npy file)
 * @param dtype the numpy dtype it was stored with: {@code <f2}, {@code <f4} or {@code <f8}
 * @param shape the dimensions ({@code []} for a scalar)
 * @param data  the values, {@code product(shape)} of them
 */
public record NpyArray(String name, String dtype, int[] shape, float[] data) {
    public NpyArray {
        shape = shape.clone();
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("array " + name + " has a negative dimension: " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("array " + name + " of shape " + Arrays.toString(shape) + " needs " + n
                    + " values, got " + data.length);
        }
    }

    /** A float32 array. */
    public static NpyArray float32(String name, int[] shape, float[] data) {
        return new NpyArray(name, "<f4", shape, data);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public int dim(int i) {
        return shape[i];
    }

    /** The shape as numpy prints it, e.g. {@code (1, 80, 100, 152)}. */
    public String shapeString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && name.equals(a.name) && dtype.equals(a.dtype) && Arrays.equals(shape, a.shape)
                && Arrays.equals(data, a.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "NpyArray[" + name + " " + dtype + " " + shapeString() + "]";
    }
}
