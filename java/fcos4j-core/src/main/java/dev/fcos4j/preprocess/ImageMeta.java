package dev.fcos4j.preprocess;

/**
 * Geometry of one image as it went through preprocessing: its original size, the size it was resized to
 * (before padding), and nothing else; every scale factor a convention needs is derived from these integers,
 * each convention with its own upstream arithmetic (see engines/POSTPROCESS.md).
 *
 * @param originalHeight height of the decoded image, pixels
 * @param originalWidth  width of the decoded image, pixels
 * @param resizedHeight  height after the keep-ratio resize, before padding
 * @param resizedWidth   width after the keep-ratio resize, before padding
 */
public record ImageMeta(int originalHeight, int originalWidth, int resizedHeight, int resizedWidth) {
    public ImageMeta {
        if (originalHeight <= 0 || originalWidth <= 0 || resizedHeight <= 0 || resizedWidth <= 0) {
            throw new IllegalArgumentException("image sizes must be positive: original " + originalWidth + "x"
                    + originalHeight + ", resized " + resizedWidth + "x" + resizedHeight);
        }
    }

    /** An image that was not resized (heads computed at its own size). */
    public static ImageMeta unscaled(int height, int width) {
        return new ImageMeta(height, width, height, width);
    }
}
