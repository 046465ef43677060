package dev.fcos4j.nativ;

import dev.fcos4j.NativeLibraryException;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;

/**
 * Loads one flavour of the fcos4j C API and the JavaCPP JNI library bound to it, once per JVM.
 *
 * <p>Both flavours are named {@code libfcos4j.so.0} (same SONAME); the JNI library links against that name.
 * The chosen flavour is {@link System#load}ed by absolute path first, so the dynamic linker satisfies the JNI
 * library's dependency with it. Consequently one JVM uses one flavour: asking for the other later fails with a
 * {@link NativeLibraryException}.
 *
 * <p>Where the flavour library is looked up, in order: the directory of system property
 * {@code fcos4j.native.dir} (a CMake build directory of native/: {@code jni/emulated/libfcos4j.so.0} for the
 * emulated flavour, {@code libfcos4j.so.0} for cuda), the copy packaged in this jar
 * ({@code dev/fcos4j/nativ/linux-x86_64/<flavour>/libfcos4j.so.0}), then {@code build/native} under
 * {@code fcos4j.root} or the working directory.
 */
public final class NativeLibrary {
    /** System property choosing the default flavour ({@code emulated} or {@code cuda}). */
    public static final String FLAVOUR_PROPERTY = "fcos4j.native.flavour";
    /** System property naming the native CMake build directory. */
    public static final String DIR_PROPERTY = "fcos4j.native.dir";
    private static final String LIB = "libfcos4j.so.0";

    private static Flavour loaded;
    private static Path loadedFrom;

    private NativeLibrary() {
    }

    /** The flavour named by {@code fcos4j.native.flavour}, default {@link Flavour#CUDA}. */
    public static Flavour defaultFlavour() {
        String p = System.getProperty(FLAVOUR_PROPERTY);
        return p == null || p.isBlank() ? Flavour.CUDA : Flavour.parse(p);
    }

    /** The flavour loaded in this JVM, or null. */
    public static synchronized Flavour loadedFlavour() {
        return loaded;
    }

    /** The file the loaded flavour came from, or null. */
    public static synchronized Path loadedFrom() {
        return loadedFrom;
    }

    /**
     * Loads the flavour (idempotent). For {@link Flavour#CUDA} also checks for a device.
     *
     * @throws NativeLibraryException naming the path and flavour when a library is missing or does not load, or
     *                                another flavour is already loaded
     * @throws NoCudaDeviceException  the cuda flavour loaded but there is no driver or GPU
     */
    public static synchronized void load(Flavour flavour) {
        if (loaded == null) {
            Path lib = locate(flavour);
            try {
                System.load(lib.toString());
            } catch (UnsatisfiedLinkError | SecurityException e) {
                throw new NativeLibraryException("cannot load the " + flavour.id() + " flavour of the fcos4j C API from "
                        + lib + ": " + e.getMessage(), e);
            }
            try {
                Loader.load(Fcos4jC.class);
            } catch (UnsatisfiedLinkError e) {
                throw new NativeLibraryException("cannot load the JavaCPP JNI library of fcos4j-native (jniFcos4jC) for the "
                        + flavour.id() + " flavour loaded from " + lib + ": " + e.getMessage()
                        + " (was java/fcos4j-native built with the javacpp plugin?)", e);
            }
            boolean emulated = Fcos4jC.fcos4j_is_emulated() != 0;
            if (emulated != (flavour == Flavour.EMULATED)) {
                throw new NativeLibraryException(lib + " is the " + (emulated ? "emulated" : "cuda")
                        + " flavour, but the " + flavour.id() + " flavour was asked for");
            }
            loaded = flavour;
            loadedFrom = lib;
        } else if (loaded != flavour) {
            throw new NativeLibraryException("the " + loaded.id() + " flavour of fcos4j (" + loadedFrom
                    + ") is already loaded in this JVM; the " + flavour.id() + " flavour cannot be loaded beside it");
        }
        if (flavour == Flavour.CUDA) {
            requireDevice();
        }
    }

    private static void requireDevice() {
        try (IntPointer count = new IntPointer(1)) {
            int status = Fcos4jC.fcos4j_device_count(count);
            if (status != Fcos4jC.FCOS4J_OK || count.get() <= 0) {
                throw new NoCudaDeviceException("no CUDA driver or GPU for the cuda flavour of fcos4j (" + loadedFrom + "): "
                        + Fcos4jC.fcos4j_last_error().getString());
            }
        }
    }

    static Path locate(Flavour flavour) {
        String rel = flavour == Flavour.EMULATED ? "jni/emulated/" + LIB : LIB;
        String dir = System.getProperty(DIR_PROPERTY);
        if (dir != null && !dir.isBlank()) {
            Path p = Paths.get(dir).toAbsolutePath().resolve(rel);
            if (!Files.isRegularFile(p)) {
                throw new NativeLibraryException("the " + flavour.id() + " flavour of the fcos4j C API is missing: " + p
                        + " does not exist (" + DIR_PROPERTY + "=" + dir + "; build it with `make native`"
                        + (flavour == Flavour.CUDA ? ", which needs nvcc for the cuda flavour)" : ")"));
            }
            return p;
        }
        String resource = "/dev/fcos4j/nativ/" + Loader.getPlatform() + "/" + flavour.id() + "/" + LIB;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in != null) {
                Path tmp = Files.createTempDirectory("fcos4j-" + flavour.id());
                Path p = tmp.resolve(LIB);
                Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
                p.toFile().deleteOnExit();
                tmp.toFile().deleteOnExit();
                return p;
            }
        } catch (IOException e) {
            throw new NativeLibraryException("cannot extract " + resource + " (" + flavour.id() + " flavour): " + e.getMessage(), e);
        }
        String root = System.getProperty("fcos4j.root", ".");
        Path p = Paths.get(root, "build", "native").toAbsolutePath().normalize().resolve(rel);
        if (!Files.isRegularFile(p)) {
            throw new NativeLibraryException("the " + flavour.id() + " flavour of the fcos4j C API was not found: not packaged ("
                    + resource + ") and " + p + " does not exist; build native/ (`make native`) or set -D" + DIR_PROPERTY);
        }
        return p;
    }
}
