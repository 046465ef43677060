package dev.fcos4j.tensorrt;

import dev.fcos4j.BackendUnavailableException;
import dev.fcos4j.ConfigurationException;
import dev.fcos4j.NativeLibraryException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

import static org.bytedeco.cuda.global.cudart.cudaDevAttrComputeCapabilityMajor;
import static org.bytedeco.cuda.global.cudart.cudaDevAttrComputeCapabilityMinor;
import static org.bytedeco.cuda.global.cudart.cudaDeviceGetAttribute;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorName;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;

/**
 * Loading of the CUDA runtime and TensorRT through JavaCPP, once per process, with every failure turned into a
 * {@link BackendUnavailableException} that names the missing library. The CUDA runtime goes first: its JNI library
 * needs the driver (libcuda.so.1), so a machine without one fails here before TensorRT's large libraries are even
 * extracted. Only {@link TensorRtNetworkFactory#open} reaches this class.
 */
final class Natives {
    private static TensorRtLogger logger;
    private static IRuntime runtime;
    private static String version;
    private static BackendUnavailableException failure;

    private Natives() {
    }

    /**
     * Loads everything (first call) or rethrows the first failure: the CUDA runtime binding, then checks that a
     * device is there (before TensorRT, whose own CUDA initialization would only log a less clear error), then
     * TensorRT and its ONNX parser.
     */
    static synchronized void load() {
        if (logger != null) {
            return;
        }
        if (failure != null) {
            throw new BackendUnavailableException(failure.getMessage(), failure);
        }
        try {
            loadCuda();
            deviceCount();
            loadTensorRt();
        } catch (BackendUnavailableException e) {
            failure = e;
            throw e;
        }
    }

    private static void loadCuda() {
        try {
            Loader.load(org.bytedeco.cuda.global.cudart.class);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            String lib = LinkErrors.missingLibrary(e);
            if (lib != null && lib.startsWith("libcuda.so")) {
                throw new BackendUnavailableException("no CUDA driver (libcuda.so.1) on this machine: the TensorRT "
                        + "backend needs an NVIDIA GPU and its driver; use the cpu backend here (" + LinkErrors.root(e) + ")", e);
            }
            if (lib != null) {
                throw new BackendUnavailableException("the CUDA runtime library " + lib + " was not found: install "
                        + "CUDA 13 or put its lib64 directory on LD_LIBRARY_PATH (docs/TENSORRT-JAVA.md) (" + LinkErrors.root(e)
                        + ")", e);
            }
            throw new BackendUnavailableException("the CUDA runtime binding (jnicudart, org.bytedeco:cuda) could not be "
                    + "loaded: " + LinkErrors.chain(e), e);
        }
    }

    private static void loadTensorRt() {
        try {
            Loader.load(nvinfer.class);
            Loader.load(nvonnxparser.class);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            String lib = LinkErrors.missingLibrary(e);
            if (lib != null && (lib.startsWith("libnvinfer") || lib.startsWith("libnvonnxparser"))) {
                throw new BackendUnavailableException("TensorRT 10 (" + lib + ") could not be loaded: add "
                        + "org.bytedeco:tensorrt:10.15-1.5.13:linux-x86_64-redist to the class path (mvn -Pgpu) or "
                        + "install TensorRT 10.15 on the library path (docs/TENSORRT-JAVA.md) (" + LinkErrors.root(e) + ")", e);
            }
            if (lib != null) {
                // The JavaCPP TensorRT binding initializes its cuBLAS, cuDNN and NVRTC bindings too.
                throw new BackendUnavailableException("the JavaCPP TensorRT binding needs " + lib + ": it also loads the "
                        + "cuBLAS, cuDNN and NVRTC bindings, so CUDA 13's libcublas, libcublasLt and libnvrtc and cuDNN 9 "
                        + "must be on the library path (or org.bytedeco:cuda:13.1-9.19-1.5.13:linux-x86_64-redist on the "
                        + "class path, mvn -Pcuda-redist; docs/TENSORRT-JAVA.md) (" + LinkErrors.root(e) + ")", e);
            }
            throw new BackendUnavailableException("the TensorRT binding (org.bytedeco:tensorrt) could not be loaded: "
                    + LinkErrors.chain(e), e);
        }
        version = EngineCacheKey.versionString(nvinfer.getInferLibVersion());
        if (!version.startsWith("10.")) {
            throw new BackendUnavailableException("TensorRT " + version + " was loaded, but fcos4j needs TensorRT 10");
        }
        TensorRtLogger l = new TensorRtLogger();
        long mark = l.mark();
        IRuntime r = nvinfer.createInferRuntime(l);
        if (r == null || r.isNull()) {
            throw new BackendUnavailableException("TensorRT could not create its runtime" + l.said(mark));
        }
        runtime = r;
        logger = l;
    }

    static TensorRtLogger logger() {
        return logger;
    }

    /** The process's TensorRT runtime (one, never freed: engines deserialized by it live as long). */
    static IRuntime runtime() {
        return runtime;
    }

    /** The loaded TensorRT's version, e.g. "10.15.1". */
    static String version() {
        return version;
    }

    /**
     * The number of CUDA devices.
     *
     * @throws BackendUnavailableException no device, or a driver the runtime cannot use
     */
    static int deviceCount() {
        int[] count = new int[1];
        int status = cudaGetDeviceCount(count);
        if (status != 0) {
            throw new BackendUnavailableException("no usable CUDA device: cudaGetDeviceCount failed: " + error(status));
        }
        if (count[0] == 0) {
            throw new BackendUnavailableException("no CUDA device on this machine (cudaGetDeviceCount = 0)");
        }
        return count[0];
    }

    /**
     * Makes {@code device} current on the calling thread (CUDA's current device is per thread).
     *
     * @throws BackendUnavailableException no device or an unusable driver
     * @throws ConfigurationException      the index is beyond the devices present
     */
    static void useDevice(int device) {
        int count = deviceCount();
        if (device >= count) {
            throw new ConfigurationException("TensorRT option device " + device + " is out of range: this machine has "
                    + count + " CUDA device(s), 0.." + (count - 1));
        }
        check(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    }

    /** Compute capability {major, minor} of a device. */
    static int[] computeCapability(int device) {
        int[] major = new int[1];
        int[] minor = new int[1];
        check(cudaDeviceGetAttribute(major, cudaDevAttrComputeCapabilityMajor, device), "cudaDeviceGetAttribute");
        check(cudaDeviceGetAttribute(minor, cudaDevAttrComputeCapabilityMinor, device), "cudaDeviceGetAttribute");
        return new int[] {major[0], minor[0]};
    }

    /**
     * Throws when a CUDA runtime call failed.
     *
     * @throws NativeLibraryException naming the call and CUDA's error name and text
     */
    static void check(int status, String what) {
        if (status != 0) {
            throw new NativeLibraryException("CUDA: " + what + " failed: " + error(status));
        }
    }

    /** "cudaErrorMemoryAllocation: out of memory (2)". */
    static String error(int status) {
        return text(cudaGetErrorName(status)) + ": " + text(cudaGetErrorString(status)) + " (" + status + ")";
    }

    private static String text(BytePointer p) {
        return p == null || p.isNull() ? "?" : p.getString();
    }
}
