package dev.fcos4j.contract;

import dev.fcos4j.preprocess.ImageBatch;

/**
 * A loaded contract model that turns a preprocessed batch into head outputs: ONNX Runtime on the CPU, or a
 * TensorRT engine. Implementations are thread-safe: {@link #run} may be called from several threads at once.
 */
public interface Network extends AutoCloseable {
    /** The model's metadata, already checked against its tensors (number of classes resolved). */
    ModelMetadata metadata();

    /**
     * Runs the network on a batch.
     *
     * @return the head outputs; close it when done with the tensors
     * @throws dev.fcos4j.ResourceClosedException after {@link #close()}
     */
    NetworkOutput run(ImageBatch batch);

    /**
     * The largest batch {@link #run} accepts: a TensorRT engine is built for a batch range; ONNX Runtime has no
     * limit. The {@link dev.fcos4j.Detector} splits its batches accordingly.
     */
    default int maxBatch() {
        return Integer.MAX_VALUE;
    }

    /** Releases the model; idempotent. Outputs still open stay readable. */
    @Override
    void close();
}
