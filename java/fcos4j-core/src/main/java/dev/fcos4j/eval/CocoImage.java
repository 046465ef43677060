package dev.fcos4j.eval;

import java.util.Objects;

/**
 * One ground-truth image entry (what a caller needs to run a detector over the data set and map its output back).
 *
 * @param id       the COCO image id
 * @param fileName {@code file_name}, or "" when the entry has none
 * @param width    {@code width} in pixels, or 0 when absent
 * @param height   {@code height} in pixels, or 0 when absent
 */
public record CocoImage(long id, String fileName, int width, int height) {
    public CocoImage {
        Objects.requireNonNull(fileName, "fileName");
    }
}
