package dev.fcos4j;

/**
 * An asynchronous detection was refused because the detector already holds as many pending requests as its
 * {@link Detector.Builder#maxPendingAsync} allows: back-pressure, so that a caller faster than the detector learns
 * it at once instead of queueing without bound. Retrying later, or shedding the request, are both fine; the
 * detector itself is unaffected.
 */
public class DetectorBusyException extends Fcos4jException {
    private static final long serialVersionUID = 1L;

    public DetectorBusyException(String message) {
        super(message);
    }
}
