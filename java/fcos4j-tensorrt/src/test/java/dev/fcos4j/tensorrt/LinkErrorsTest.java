package dev.fcos4j.tensorrt;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class LinkErrorsTest {
    private static UnsatisfiedLinkError wrapped(String inner) {
        UnsatisfiedLinkError outer = new UnsatisfiedLinkError("no jnicudart in java.library.path: /usr/lib");
        outer.initCause(new UnsatisfiedLinkError(inner));
        return outer;
    }

    @Test
    void theMissingLibraryIsTheOneTheLinkerNames() {
        // The messages as HotSpot reports a failed System.load (seen on a machine without a driver).
        assertEquals("libcuda.so.1", LinkErrors.missingLibrary(wrapped("/root/.javacpp/cache/cuda-13.1-9.19-1.5.13-"
                + "linux-x86_64.jar/org/bytedeco/cuda/linux-x86_64/libjnicudart.so: libcuda.so.1: cannot open shared "
                + "object file: No such file or directory")));
        assertEquals("libcublasLt.so.13", LinkErrors.missingLibrary(wrapped("/c/libjnicublas.so: libcublasLt.so.13: "
                + "cannot open shared object file: No such file or directory")));
        assertEquals("libnvinfer.so.10", LinkErrors.missingLibrary(new UnsatisfiedLinkError("/x/libjninvinfer.so: "
                + "libnvinfer.so.10: cannot open shared object file: No such file or directory")));
        assertNull(LinkErrors.missingLibrary(new UnsatisfiedLinkError("no jnicudart in java.library.path: /usr/lib")));
    }

    @Test
    void rootAndChainReadTheCauses() {
        UnsatisfiedLinkError e = wrapped("inner words");
        assertEquals("inner words", LinkErrors.root(e));
        assertEquals("java.lang.UnsatisfiedLinkError: no jnicudart in java.library.path: /usr/lib; caused by "
                + "java.lang.UnsatisfiedLinkError: inner words", LinkErrors.chain(e));
    }
}
