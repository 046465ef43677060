package dev.fcos4j;

/** A closed detector, session, buffer or other native-backed resource was used after {@code close()}; the message names the resource. */
public class ResourceClosedException extends Fcos4jException {
    private static final long serialVersionUID = 1L;

    public ResourceClosedException(String message) {
        super(message);
    }

    public ResourceClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
