package dev.fcos4j;

/** An image could not be read or decoded; the message names the file. */
public class ImageDecodeException extends Fcos4jException {
    private static final long serialVersionUID = 1L;

    public ImageDecodeException(String message) {
        super(message);
    }

    public ImageDecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
