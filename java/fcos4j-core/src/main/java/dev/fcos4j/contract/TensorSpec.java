package dev.fcos4j.contract;

import java.util.Arrays;
import java.util.Objects;

/**
 * A network input or output as a backend declares it: name, element type and shape, where a dynamic dimension
 * is {@code -1}. Backend-neutral, so that {@link ModelContract} checks ONNX Runtime sessions and TensorRT engines
 * alike.
 *
 * @param name        tensor name
 * @param elementType element type in lower case numpy spelling: "float32", "float64", "int64", ...
 * @param shape       dimensions, -1 where dynamic (copied)
 */
public record TensorSpec(String name, String elementType, long[] shape) {
    /** The element type the contract requires for every tensor. */
    public static final String FLOAT32 = "float32";

    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(elementType, "elementType");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Dimension i, -1 when dynamic. */
    public long dim(int i) {
        return shape[i];
    }

    /** The shape as {@code [N,80,H,W]}: dynamic dimensions print as their letter when given, else as "?". */
    public String shapeString() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            b.append(i == 0 ? "" : ",").append(shape[i] < 0 ? "?" : Long.toString(shape[i]));
        }
        return b.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && t.name.equals(name) && t.elementType.equals(elementType)
                && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, elementType, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + " " + elementType + shapeString();
    }
}
