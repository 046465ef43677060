package dev.fcos4j;

/**
 * Root of every error fcos4j raises. Unchecked, so that it crosses {@link java.util.concurrent.CompletableFuture}
 * and stream boundaries unwrapped; each subclass names the file, tensor or library at fault in its message.
 */
public class Fcos4jException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public Fcos4jException(String message) {
        super(message);
    }

    public Fcos4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
