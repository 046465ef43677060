package dev.fcos4j;

/** A native library (ONNX Runtime, OpenCV, the fcos4j native library, CUDA, TensorRT) could not be loaded or reported an error; the message names the library. */
public class NativeLibraryException extends Fcos4jException {
    private static final long serialVersionUID = 1L;

    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
