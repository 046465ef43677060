package dev.fcos4j.nativ;

import dev.fcos4j.NativeLibraryException;

/** The CUDA flavour loaded, but there is no CUDA driver or no usable GPU on this machine. */
public class NoCudaDeviceException extends NativeLibraryException {
    private static final long serialVersionUID = 1L;

    public NoCudaDeviceException(String message) {
        super(message);
    }
}
