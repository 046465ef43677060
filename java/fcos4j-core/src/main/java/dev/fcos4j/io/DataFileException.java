package dev.fcos4j.io;

import dev.fcos4j.Fcos4jException;

/**
 * A data file (.npy/.npz arrays, detections or COCO-results JSON, an annotated image) cannot be read, parsed
 * or written; the message names the file and, where there is one, the array or record at fault.
 */
public class DataFileException extends Fcos4jException {
    private static final long serialVersionUID = 1L;

    public DataFileException(String message) {
        super(message);
    }

    public DataFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
