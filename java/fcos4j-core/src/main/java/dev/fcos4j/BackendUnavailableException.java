package dev.fcos4j;

/**
 * The chosen {@link Backend} cannot run in this process: its module is not on the class path, or a native library,
 * the driver or the device it needs is missing. The message names what is missing. The command line reports it as a
 * usage error (exit 2), since another backend is the remedy, not another input.
 */
public class BackendUnavailableException extends NativeLibraryException {
    private static final long serialVersionUID = 1L;

    /** @param message what is missing, and where it was looked for */
    public BackendUnavailableException(String message) {
        super(message);
    }

    /**
     * @param message what is missing, and where it was looked for
     * @param cause   the loader's own error (e.g. the {@code UnsatisfiedLinkError} naming the library)
     */
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
