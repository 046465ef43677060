package dev.fcos4j.postprocess;

import dev.fcos4j.Detection;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.preprocess.ImageMeta;

import java.util.List;

/**
 * The Java reference post-processing: engines/POSTPROCESS.md as plain Java, the oracle for every other
 * implementation. Thread-safe.
 */
public final class ReferencePostProcessor implements PostProcessor {
    private final PostProcessConfig config;
    private final List<String> classNames;

    /**
     * @param config     thresholds and convention
     * @param classNames labels for class ids (may be empty: labels are then "class_N")
     */
    public ReferencePostProcessor(PostProcessConfig config, List<String> classNames) {
        this.config = config;
        this.classNames = List.copyOf(classNames);
    }

    @Override
    public List<List<Detection>> process(HeadTensors heads, List<ImageMeta> metas) {
        throw new UnsupportedOperationException("not written yet");
    }

    @Override
    public PostProcessConfig config() {
        return config;
    }

    @Override
    public void close() {
    }
}
