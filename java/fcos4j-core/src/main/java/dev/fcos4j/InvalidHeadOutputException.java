package dev.fcos4j;

/** Head outputs handed to post-processing are unusable (NaN or infinite values, wrong sizes); the message names the tensor and position. */
public class InvalidHeadOutputException extends Fcos4jException {
    private static final long serialVersionUID = 1L;

    public InvalidHeadOutputException(String message) {
        super(message);
    }

    public InvalidHeadOutputException(String message, Throwable cause) {
        super(message, cause);
    }
}
