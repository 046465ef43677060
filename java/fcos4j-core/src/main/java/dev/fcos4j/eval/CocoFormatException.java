package dev.fcos4j.eval;

import dev.fcos4j.Fcos4jException;

/**
 * A COCO ground-truth or results file (or an in-memory detection list) cannot be evaluated: malformed JSON, a
 * missing or invalid field, a detection on an image the ground truth does not know. The message names the source
 * (file) and the record (array index, 0-based) at fault. Evaluation never returns a partial score after this.
 */
public class CocoFormatException extends Fcos4jException {
    private static final long serialVersionUID = 1L;

    public CocoFormatException(String message) {
        super(message);
    }

    public CocoFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
