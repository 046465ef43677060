package dev.fcos4j.preprocess;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * A preprocessed batch: float32 NCHW, every image resized, normalized and zero-padded (after normalizing) to one
 * shared height and width, plus each image's own geometry.
 *
 * @param data   N*3*height*width values, NCHW
 * @param height padded height, a multiple of the size divisor
 * @param width  padded width, a multiple of the size divisor
 * @param metas  per-image geometry, in batch order
 */
public record ImageBatch(FloatBuffer data, int height, int width, List<ImageMeta> metas) {
    public ImageBatch {
        metas = List.copyOf(metas);
        long expected = (long) metas.size() * 3 * height * width;
        if (data.capacity() != expected) {
            throw new IllegalArgumentException("batch data has " + data.capacity() + " values, expected " + expected);
        }
    }

    /** Number of images. */
    public int size() {
        return metas.size();
    }
}
