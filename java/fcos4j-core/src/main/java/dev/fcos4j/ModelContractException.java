package dev.fcos4j;

/** An ONNX model (or a set of head tensors) does not follow the fcos4j model contract (engines/CONTRACT.md); the message names the tensor or metadata key at fault. */
public class ModelContractException extends Fcos4jException {
    private static final long serialVersionUID = 1L;

    public ModelContractException(String message) {
        super(message);
    }

    public ModelContractException(String message, Throwable cause) {
        super(message, cause);
    }
}
