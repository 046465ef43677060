package dev.fcos4j.postprocess;

import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Test helper: mutable per-level head arrays with named setters, turned into {@link HeadTensors}. */
final class TestHeads {
    final int batch;
    final int numClasses;
    final List<LevelShape> levels;
    final float[][] cls;
    final float[][] reg;
    final float[][] ctr;

    /** All class logits start at -20 (probability ~2e-9), centerness logits at 0 (0.5), distances at 0. */
    TestHeads(int batch, int numClasses, LevelShape... levels) {
        this.batch = batch;
        this.numClasses = numClasses;
        this.levels = List.of(levels);
        cls = new float[levels.length][];
        reg = new float[levels.length][];
        ctr = new float[levels.length][];
        for (int l = 0; l < levels.length; l++) {
            int hw = levels[l].points();
            cls[l] = new float[batch * numClasses * hw];
            Arrays.fill(cls[l], -20f);
            reg[l] = new float[batch * 4 * hw];
            ctr[l] = new float[batch * hw];
        }
    }

    static LevelShape level(int stride, int height, int width) {
        return new LevelShape(stride, height, width);
    }

    int hw(int l) {
        return levels.get(l).points();
    }

    int w(int l) {
        return levels.get(l).width();
    }

    TestHeads cls(int n, int l, int c, int y, int x, float logit) {
        cls[l][(n * numClasses + c) * hw(l) + y * w(l) + x] = logit;
        return this;
    }

    TestHeads ctr(int n, int l, int y, int x, float logit) {
        ctr[l][n * hw(l) + y * w(l) + x] = logit;
        return this;
    }

    /** Distances (left, top, right, bottom) in input pixels at a point. */
    TestHeads reg(int n, int l, int y, int x, float left, float top, float right, float bottom) {
        int hw = hw(l);
        int p = y * w(l) + x;
        reg[l][n * 4 * hw + p] = left;
        reg[l][n * 4 * hw + hw + p] = top;
        reg[l][n * 4 * hw + 2 * hw + p] = right;
        reg[l][n * 4 * hw + 3 * hw + p] = bottom;
        return this;
    }

    HeadTensors build() {
        return build(false);
    }

    /** @param direct use direct buffers instead of wrapped arrays */
    HeadTensors build(boolean direct) {
        List<FloatBuffer> c = new ArrayList<>();
        List<FloatBuffer> r = new ArrayList<>();
        List<FloatBuffer> t = new ArrayList<>();
        for (int l = 0; l < levels.size(); l++) {
            c.add(buffer(cls[l], direct));
            r.add(buffer(reg[l], direct));
            t.add(buffer(ctr[l], direct));
        }
        return HeadTensors.of(batch, numClasses, levels, c, r, t);
    }

    private static FloatBuffer buffer(float[] a, boolean direct) {
        if (!direct) {
            return FloatBuffer.wrap(a);
        }
        FloatBuffer b = java.nio.ByteBuffer.allocateDirect(a.length * 4).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(a);
        b.position(3 % Math.max(1, a.length)); // position must be ignored
        return b;
    }
}
