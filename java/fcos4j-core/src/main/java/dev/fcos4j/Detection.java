package dev.fcos4j;

/**
 * One detected object. The box is in pixels of the original (un-resized) image, (x1, y1) top-left and
 * (x2, y2) bottom-right, in the coordinate convention of the post-processing convention that produced it.
 *
 * @param x1      left edge
 * @param y1      top edge
 * @param x2      right edge
 * @param y2      bottom edge
 * @param score   detection score in [0, 1]
 * @param classId 0-based class index into the model's class names
 * @param label   the class name from the model metadata (never null; "class_N" when the model has none)
 */
public record Detection(float x1, float y1, float x2, float y2, float score, int classId, String label) {
    /** Box width, {@code x2 - x1}. */
    public float width() {
        return x2 - x1;
    }

    /** Box height, {@code y2 - y1}. */
    public float height() {
        return y2 - y1;
    }
}
