package dev.fcos4j.postprocess;

import java.util.Arrays;

/**
 * Caller-owned, fixed-shape detection output of a batch, laid out like the native post-processing outputs:
 * {@code boxes} [maxBatch, maxDetections, 4] (x1, y1, x2, y2 in original-image pixels), {@code scores}
 * [maxBatch, maxDetections], {@code classes} [maxBatch, maxDetections] (0-based ids) and {@code counts}
 * [maxBatch]. Row {@code i < counts[n]} of image n is valid; rows beyond are stale and must be ignored.
 *
 * <p>Reusing one instance across calls makes {@link ReferencePostProcessor#processInto} allocation-free.
 * Not thread-safe: one instance per concurrent call.
 */
public final class DetectionArrays {
    private final int maxBatch;
    private final int maxDetections;
    private final float[] boxes;
    private final float[] scores;
    private final int[] classes;
    private final int[] counts;

    /**
     * @param maxBatch      largest batch this object can receive
     * @param maxDetections rows per image; must be at least the post-processor's {@code maxDetections}
     */
    public DetectionArrays(int maxBatch, int maxDetections) {
        if (maxBatch <= 0 || maxDetections <= 0) {
            throw new IllegalArgumentException("DetectionArrays needs a positive batch and detection capacity, got "
                    + maxBatch + " x " + maxDetections);
        }
        long rows = (long) maxBatch * maxDetections;
        if (rows * 4 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("DetectionArrays capacity too large: " + maxBatch + " x " + maxDetections);
        }
        this.maxBatch = maxBatch;
        this.maxDetections = maxDetections;
        this.boxes = new float[(int) rows * 4];
        this.scores = new float[(int) rows];
        this.classes = new int[(int) rows];
        this.counts = new int[maxBatch];
    }

    public int maxBatch() {
        return maxBatch;
    }

    public int maxDetections() {
        return maxDetections;
    }

    /** Detections written for image n by the last call. */
    public int count(int n) {
        return counts[n];
    }

    public float x1(int n, int i) {
        return boxes[row(n, i) * 4];
    }

    public float y1(int n, int i) {
        return boxes[row(n, i) * 4 + 1];
    }

    public float x2(int n, int i) {
        return boxes[row(n, i) * 4 + 2];
    }

    public float y2(int n, int i) {
        return boxes[row(n, i) * 4 + 3];
    }

    public float score(int n, int i) {
        return scores[row(n, i)];
    }

    public int classId(int n, int i) {
        return classes[row(n, i)];
    }

    /** The backing [maxBatch, maxDetections, 4] box array (live, not a copy). */
    public float[] boxes() {
        return boxes;
    }

    /** The backing [maxBatch, maxDetections] score array (live, not a copy). */
    public float[] scores() {
        return scores;
    }

    /** The backing [maxBatch, maxDetections] class-id array (live, not a copy). */
    public int[] classes() {
        return classes;
    }

    /** The backing [maxBatch] count array (live, not a copy). */
    public int[] counts() {
        return counts;
    }

    /** Sets every count to zero. */
    public void clear() {
        Arrays.fill(counts, 0);
    }

    private int row(int n, int i) {
        if (n < 0 || n >= maxBatch || i < 0 || i >= counts[n]) {
            throw new IndexOutOfBoundsException("detection " + i + " of image " + n + " (image has " +
                    (n >= 0 && n < maxBatch ? counts[n] : 0) + ", capacity " + maxBatch + " images)");
        }
        return n * maxDetections + i;
    }

    void set(int n, int i, float x1, float y1, float x2, float y2, float score, int classId) {
        int r = n * maxDetections + i;
        boxes[r * 4] = x1;
        boxes[r * 4 + 1] = y1;
        boxes[r * 4 + 2] = x2;
        boxes[r * 4 + 3] = y2;
        scores[r] = score;
        classes[r] = classId;
    }

    void setCount(int n, int count) {
        counts[n] = count;
    }
}
