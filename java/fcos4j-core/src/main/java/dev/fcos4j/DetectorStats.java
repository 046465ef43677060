package dev.fcos4j;

/**
 * What a {@link Detector} has done since it was built: counts, and the time spent in each stage of the pipeline,
 * summed over every call (calls on several threads add up, so the stage times can exceed the wall clock). A snapshot:
 * {@link Detector#stats()} returns a new one each time. Meant for dashboards and for telling which stage to
 * tune; for benchmarks use JMH ({@code benchmarks/}).
 *
 * @param images            images detected (successful batches only)
 * @param batches           network runs that completed
 * @param failedBatches     batches that ended in an exception (an image that does not decode, bad head outputs, a native failure, ...)
 * @param rejectedAsync     async requests refused with {@link DetectorBusyException}
 * @param preprocessNanos   time in decoding, resizing, normalizing and padding
 * @param networkNanos      time in the network (ONNX Runtime or TensorRT)
 * @param postprocessNanos  time in decoding, thresholding and NMS of the head outputs
 */
public record DetectorStats(long images, long batches, long failedBatches, long rejectedAsync, long preprocessNanos,
                            long networkNanos, long postprocessNanos) {
    /** Mean preprocessing time per image, milliseconds (0 before the first image). */
    public double preprocessMillisPerImage() {
        return perImage(preprocessNanos);
    }

    /** Mean network time per image, milliseconds (0 before the first image). */
    public double networkMillisPerImage() {
        return perImage(networkNanos);
    }

    /** Mean post-processing time per image, milliseconds (0 before the first image). */
    public double postprocessMillisPerImage() {
        return perImage(postprocessNanos);
    }

    private double perImage(long nanos) {
        return images == 0 ? 0 : nanos / 1e6 / images;
    }
}
