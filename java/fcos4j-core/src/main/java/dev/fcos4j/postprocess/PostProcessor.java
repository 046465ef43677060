package dev.fcos4j.postprocess;

import dev.fcos4j.Detection;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.preprocess.ImageMeta;

import java.util.List;

/**
 * Turns head outputs into detections: decode, threshold, top-k, rescale, class-aware NMS, per
 * engines/POSTPROCESS.md. Implementations: the Java reference ({@code ReferencePostProcessor}) and the native
 * kernels (CUDA, or emulated on the CPU).
 */
public interface PostProcessor extends AutoCloseable {
    /**
     * Post-processes every image of the batch.
     *
     * @param heads head outputs, batch N
     * @param metas N image geometries, in batch order
     * @return N lists of detections, each sorted by descending score
     */
    List<List<Detection>> process(HeadTensors heads, List<ImageMeta> metas);

    /** The configuration this post-processor applies. */
    PostProcessConfig config();

    @Override
    void close();
}
