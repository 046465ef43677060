package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.contract.ModelContract;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Where the tensors of one run live, computed from the output shapes TensorRT reports once the input shape is set:
 * each output's byte offset and size in the slot's device output buffer (256-byte aligned slices: the contract's
 * outputs {@code cls_0, reg_0, ctr_0, cls_1, ...} first, then any other outputs of the engine), with the contract's
 * outputs also at the same offsets in the pinned host buffer. Plain Java, tested without a GPU.
 */
final class RunLayout {
    /** Tensor addresses start on 256-byte boundaries (what TensorRT asks of them). */
    static final long ALIGN = 256;
    /** A host tensor is read through one Java buffer, which holds at most this many bytes. */
    static final long MAX_VIEW_BYTES = Integer.MAX_VALUE;

    private final long inputBytes;
    private final List<String> names;
    private final long[] offsets;
    private final long[] bytes;
    private final int hostCount;
    private final long deviceBytes;
    private final long hostBytes;

    private RunLayout(long inputBytes, List<String> names, long[] offsets, long[] bytes, int hostCount,
                      long deviceBytes, long hostBytes) {
        this.inputBytes = inputBytes;
        this.names = names;
        this.offsets = offsets;
        this.bytes = bytes;
        this.hostCount = hostCount;
        this.deviceBytes = deviceBytes;
        this.hostBytes = hostBytes;
    }

    /**
     * The layout of an {@code n x 3 x height x width} float32 batch.
     *
     * @param what       names the run in messages (model and batch shape)
     * @param strides    the model's FPN strides (3 contract outputs per stride)
     * @param extra      the engine's outputs outside the contract (computed on the device, never copied back)
     * @param shapeOf    the output shape TensorRT reports for the input shape ({@code getTensorShape})
     * @param bitsOf     bits of one element of an output
     * @throws ModelContractException  a contract output's shape is not the contract's for this input, or an output's
     *                                 shape is data-dependent
     * @throws ConfigurationException  a host tensor exceeds what one Java buffer can view (names the option to lower)
     */
    static RunLayout of(String what, int n, int height, int width, int numClasses, List<Integer> strides,
                        List<String> extra, Function<String, long[]> shapeOf, ToIntFunction<String> bitsOf) {
        long inputBytes = 4L * n * 3 * height * width;
        checkViewable(what, ModelContract.INPUT, inputBytes);
        List<LevelShape> levels = ModelContract.levelShapes(height, width, strides);
        List<String> names = new ArrayList<>(ModelContract.outputNames(levels.size()));
        int hostCount = names.size();
        names.addAll(extra);
        long[] offsets = new long[names.size()];
        long[] bytes = new long[names.size()];
        long total = 0;
        long hostTotal = 0;
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            long[] got = shapeOf.apply(name);
            if (i < hostCount) {
                LevelShape s = levels.get(i / 3);
                long[] expected = {n, i % 3 == 0 ? numClasses : i % 3 == 1 ? 4 : 1, s.height(), s.width()};
                if (!Arrays.equals(got, expected)) {
                    throw new ModelContractException(what + ": output '" + name + "' has shape " + Arrays.toString(got)
                            + ", the contract gives " + Arrays.toString(expected) + " (level " + i / 3 + ", stride "
                            + s.stride() + ")");
                }
            }
            long elements = 1;
            for (long d : got) {
                if (d < 0) {
                    throw new ModelContractException(what + ": output '" + name + "' has a data-dependent shape "
                            + Arrays.toString(got) + ", which the contract does not allow");
                }
                elements = Math.multiplyExact(elements, d);
            }
            bytes[i] = TensorTypes.bytes(elements, bitsOf.applyAsInt(name));
            if (i < hostCount) {
                checkViewable(what, name, bytes[i]);
            }
            offsets[i] = total;
            total = Math.addExact(total, align(bytes[i]));
            if (i < hostCount) {
                hostTotal = total;
            }
        }
        return new RunLayout(inputBytes, List.copyOf(names), offsets, bytes, hostCount, total, hostTotal);
    }

    private static void checkViewable(String what, String tensor, long bytes) {
        if (bytes > MAX_VIEW_BYTES) {
            throw new ConfigurationException(what + ": tensor '" + tensor + "' needs " + bytes + " bytes, more than "
                    + "one Java buffer can hold (" + MAX_VIEW_BYTES + "); use smaller batches ("
                    + TensorRtOptions.MAX_BATCH + ") or inputs (" + TensorRtOptions.MAX_HEIGHT + ", "
                    + TensorRtOptions.MAX_WIDTH + ")");
        }
    }

    /** {@code v} rounded up to a multiple of {@code unit}. */
    static long roundUp(long v, long unit) {
        return Math.addExact(v, unit - 1) / unit * unit;
    }

    static long align(long v) {
        return roundUp(v, ALIGN);
    }

    /** Bytes of the float32 input. */
    long inputBytes() {
        return inputBytes;
    }

    /** Every output: the contract's first ({@link #hostCount()} of them), then the engine's others. */
    List<String> names() {
        return names;
    }

    /** Byte offset of output {@code i} in the device buffer (and, for a contract output, in the host buffer). */
    long offset(int i) {
        return offsets[i];
    }

    /** Bytes of output {@code i}. */
    long bytes(int i) {
        return bytes[i];
    }

    /** The number of contract outputs, which come first and are copied to the host. */
    int hostCount() {
        return hostCount;
    }

    /** Size of the device output buffer. */
    long deviceBytes() {
        return deviceBytes;
    }

    /** Size of the pinned host output buffer (the contract outputs). */
    long hostBytes() {
        return hostBytes;
    }
}
