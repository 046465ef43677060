package dev.fcos4j.contract;

import dev.fcos4j.ModelContractException;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * The head outputs of a batch, as the model contract (engines/CONTRACT.md) defines them: per FPN level l,
 * {@code cls_l} [N,C,H_l,W_l] class logits, {@code reg_l} [N,4,H_l,W_l] (left, top, right, bottom) distances in
 * input pixels, {@code ctr_l} [N,1,H_l,W_l] centerness logits, all float32 NCHW.
 *
 * <p>The buffers are views, not copies: heap or direct, read with absolute gets from index 0 (their position
 * is ignored). Whoever built this object owns them; it is valid while they are.
 */
public final class HeadTensors {
    private final int batch;
    private final int numClasses;
    private final LevelShape[] levels;
    private final FloatBuffer[] cls;
    private final FloatBuffer[] reg;
    private final FloatBuffer[] ctr;

    private HeadTensors(int batch, int numClasses, LevelShape[] levels, FloatBuffer[] cls, FloatBuffer[] reg,
                        FloatBuffer[] ctr) {
        this.batch = batch;
        this.numClasses = numClasses;
        this.levels = levels;
        this.cls = cls;
        this.reg = reg;
        this.ctr = ctr;
    }

    /**
     * Wraps per-level buffers after checking every size against the shapes.
     *
     * @throws ModelContractException naming the tensor ({@code cls_2}, ...) whose capacity does not match
     */
    public static HeadTensors of(int batch, int numClasses, List<LevelShape> levels, List<FloatBuffer> cls,
                                 List<FloatBuffer> reg, List<FloatBuffer> ctr) {
        if (batch <= 0) {
            throw new ModelContractException("batch size must be positive, got " + batch);
        }
        if (numClasses <= 0) {
            throw new ModelContractException("number of classes must be positive, got " + numClasses);
        }
        int n = levels.size();
        if (n == 0 || cls.size() != n || reg.size() != n || ctr.size() != n) {
            throw new ModelContractException("expected one cls/reg/ctr tensor per level for " + n + " levels, got "
                    + cls.size() + "/" + reg.size() + "/" + ctr.size());
        }
        for (int l = 0; l < n; l++) {
            long points = (long) levels.get(l).points() * batch;
            check("cls_" + l, cls.get(l), points * numClasses, batch, numClasses, levels.get(l));
            check("reg_" + l, reg.get(l), points * 4, batch, 4, levels.get(l));
            check("ctr_" + l, ctr.get(l), points, batch, 1, levels.get(l));
        }
        return new HeadTensors(batch, numClasses, levels.toArray(new LevelShape[0]),
                cls.toArray(new FloatBuffer[0]), reg.toArray(new FloatBuffer[0]), ctr.toArray(new FloatBuffer[0]));
    }

    private static void check(String name, FloatBuffer buffer, long expected, int batch, int channels, LevelShape s) {
        if (buffer == null) {
            throw new ModelContractException("tensor " + name + " is missing");
        }
        if (buffer.capacity() != expected) {
            throw new ModelContractException("tensor " + name + " has " + buffer.capacity() + " values, expected "
                    + expected + " = [" + batch + "," + channels + "," + s.height() + "," + s.width() + "]");
        }
    }

    public int batch() {
        return batch;
    }

    public int numClasses() {
        return numClasses;
    }

    public int numLevels() {
        return levels.length;
    }

    public LevelShape level(int l) {
        return levels[l];
    }

    /** Class logits of level l, [N,C,H,W]. */
    public FloatBuffer cls(int l) {
        return cls[l];
    }

    /** Box distances of level l in input pixels, [N,4,H,W] (left, top, right, bottom). */
    public FloatBuffer reg(int l) {
        return reg[l];
    }

    /** Centerness logits of level l, [N,1,H,W]. */
    public FloatBuffer ctr(int l) {
        return ctr[l];
    }
}
