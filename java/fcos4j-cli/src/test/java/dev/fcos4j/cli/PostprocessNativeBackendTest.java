package dev.fcos4j.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code fcos4j postprocess --backend emulated}: the CUDA kernels run on the CPU through the native module. */
class PostprocessNativeBackendTest {
    private static Path root() {
        return Paths.get(System.getProperty("fcos4j.root", "../..")).toAbsolutePath().normalize();
    }

    private static void requireEmulatedBuild() {
        String dir = System.getProperty("fcos4j.native.dir");
        Path lib = (dir == null ? root().resolve("build/native") : Paths.get(dir)).resolve("jni/emulated/libfcos4j.so.0");
        assumeTrue(Files.isRegularFile(lib), "native build absent (" + lib + "): run `make native`");
    }

    @Test
    void emulatedBackendReproducesTheFixturesExpectedDetections() {
        requireEmulatedBuild();
        for (String name : new String[] {"mmdet_few_b1", "fcos_ties_b3", "mmdet_dense_caps_b2"}) {
            Path fixture = root().resolve("engines/fixtures/postprocess/" + name + ".json");
            assumeTrue(Files.isRegularFile(fixture), "fixture absent: " + fixture);
            CliTestSupport.Result r = CliTestSupport.run("postprocess", "--heads", fixture.toString(), "--backend", "emulated",
                    "--check");
            assertEquals(0, r.code(), r.toString());
            assertTrue(r.out().contains("fixture " + name + ": OK"), r.toString());
        }
    }

    @Test
    void emulatedBackendIsNamedInTheOutput() {
        requireEmulatedBuild();
        Path fixture = root().resolve("engines/fixtures/postprocess/mmdet_few_b1.json");
        assumeTrue(Files.isRegularFile(fixture), "fixture absent: " + fixture);
        CliTestSupport.Result r = CliTestSupport.run("postprocess", "--heads", fixture.toString(), "--backend", "emulated");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("\"backend\" : \"emulated\"") || r.out().contains("\"backend\":\"emulated\""), r.toString());
    }
}
