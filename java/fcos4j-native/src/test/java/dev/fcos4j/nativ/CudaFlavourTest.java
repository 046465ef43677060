package dev.fcos4j.nativ;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cuda flavour, in a child JVM (one flavour per JVM). */
class CudaFlavourTest {
    private static Path cudaLib() {
        Path lib = NativeTestSupport.nativeDir().resolve("libfcos4j.so.0");
        Assumptions.assumeTrue(Files.isRegularFile(lib), "cuda flavour not built (" + lib + "): needs nvcc");
        return lib;
    }

    private static String run(String mode) throws IOException, InterruptedException {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                "-D" + NativeLibrary.DIR_PROPERTY + "=" + NativeTestSupport.nativeDir(),
                "-Dfcos4j.root=" + NativeTestSupport.root(), CudaProbe.class.getName(), mode));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM did not finish");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "child JVM failed (a crash would show here):\n" + text);
        return text;
    }

    @Test
    void loadingWithoutADriverIsATypedExceptionNotACrash() throws Exception {
        cudaLib();
        String out = run("load");
        // on a GPU machine the flavour loads; elsewhere the typed exception, never a crash or another error
        assertTrue(out.contains("RESULT NoCudaDeviceException") || out.contains("RESULT loaded"), out);
        if (out.contains("NoCudaDeviceException")) {
            assertTrue(out.contains("no CUDA driver or GPU"), out);
        }
    }

    @Test
    @Tag("gpu")
    void cudaKernelsEqualTheReference() throws Exception {
        cudaLib();
        String out = run("compare");
        assertTrue(out.contains("RESULT compared"), out);
    }
}
