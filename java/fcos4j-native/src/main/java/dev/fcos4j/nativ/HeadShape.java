package dev.fcos4j.nativ;

import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;

import java.util.ArrayList;
import java.util.List;

/**
 * The largest head shape a {@link NativePostProcessor} accepts: batch, classes and per-level sizes (strides fixed).
 *
 * @param batch      largest batch
 * @param numClasses number of classes
 * @param levels     per FPN level: stride and the largest height / width
 */
public record HeadShape(int batch, int numClasses, List<LevelShape> levels) {
    public HeadShape {
        if (batch <= 0 || numClasses <= 0) {
            throw new IllegalArgumentException("HeadShape needs a positive batch and class count, got " + batch + ", " + numClasses);
        }
        if (levels == null || levels.isEmpty() || levels.size() > Fcos4jC.FCOS4J_MAX_LEVELS) {
            throw new IllegalArgumentException("HeadShape needs 1.." + Fcos4jC.FCOS4J_MAX_LEVELS + " levels, got "
                    + (levels == null ? "null" : levels.size()));
        }
        levels = List.copyOf(levels);
    }

    /** The shape of these heads. */
    public static HeadShape of(HeadTensors heads) {
        List<LevelShape> l = new ArrayList<>();
        for (int i = 0; i < heads.numLevels(); i++) {
            l.add(heads.level(i));
        }
        return new HeadShape(heads.batch(), heads.numClasses(), l);
    }

    /**
     * The FPN shape of a padded input (COMMON.md contract): level 0 is H/stride0, each next level halves with ceil.
     */
    public static HeadShape fpn(int batch, int numClasses, int paddedHeight, int paddedWidth, int... strides) {
        List<LevelShape> l = new ArrayList<>();
        int h = (paddedHeight + strides[0] - 1) / strides[0];
        int w = (paddedWidth + strides[0] - 1) / strides[0];
        for (int i = 0; i < strides.length; i++) {
            if (i > 0) {
                h = (h + 1) / 2;
                w = (w + 1) / 2;
            }
            l.add(new LevelShape(strides[i], h, w));
        }
        return new HeadShape(batch, numClasses, l);
    }
}
