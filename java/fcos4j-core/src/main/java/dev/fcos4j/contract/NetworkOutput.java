package dev.fcos4j.contract;

/**
 * Head outputs of one {@link Network#run}, owning whatever backs them (output tensors, pooled buffers).
 * Close it as soon as post-processing is done, so the buffers can be reused.
 */
public interface NetworkOutput extends AutoCloseable {
    /**
     * The head tensors, valid until {@link #close()}.
     *
     * @throws dev.fcos4j.ResourceClosedException after {@link #close()}
     */
    HeadTensors heads();

    /** Releases the output tensors; idempotent. */
    @Override
    void close();
}
