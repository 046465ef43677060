package dev.fcos4j.eval;

/**
 * One detection in COCO results form: box as {@code [x, y, width, height]} in original image pixels.
 *
 * @param imageId    the COCO image id
 * @param categoryId the COCO category id (not a 0-based class index)
 * @param x          left edge
 * @param y          top edge
 * @param width      box width, {@code >= 0}
 * @param height     box height, {@code >= 0}
 * @param score      confidence, used only for ranking
 */
public record CocoDetection(long imageId, long categoryId, double x, double y, double width, double height,
                            double score) {

    /** Box area as the reference results loader computes it ({@code width * height}). */
    public double area() {
        return width * height;
    }
}
