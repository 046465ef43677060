package dev.fcos4j.contract;

/**
 * Spatial shape of one FPN level's head outputs.
 *
 * @param stride input pixels per feature-map cell (8, 16, 32, 64, 128 for P3..P7)
 * @param height feature-map rows
 * @param width  feature-map columns
 */
public record LevelShape(int stride, int height, int width) {
    public LevelShape {
        if (stride <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("level shape must be positive: stride " + stride + ", " + height + "x" + width);
        }
    }

    /** Number of points (cells) on this level. */
    public int points() {
        return height * width;
    }
}
