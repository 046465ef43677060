package dev.fcos4j.nativ;

import dev.fcos4j.Detection;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.io.PostprocessFixture;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Java -> JavaCPP -> C API -> emulated kernels equals the Java reference post-processor on every shared fixture
 * (engines/fixtures/postprocess and the torchvision goldens), and on the fixtures' own expected detections.
 */
class EmulatedFixturesTest {
    @BeforeAll
    static void load() {
        NativeTestSupport.requireEmulated();
    }

    static List<Path> fixtureFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String dir : new String[] {"engines/fixtures/postprocess", "engines/goldens/torchvision"}) {
            Path d = NativeTestSupport.root().resolve(dir);
            if (Files.isDirectory(d)) {
                try (Stream<Path> s = Files.list(d)) {
                    s.filter(p -> p.toString().endsWith(".json")).sorted().forEach(files::add);
                }
            }
        }
        return files;
    }

    @Test
    void fixturesArePresent() throws IOException {
        assertTrue(fixtureFiles().size() >= 10, "expected the shared fixtures under engines/, found " + fixtureFiles());
    }

    @TestFactory
    Stream<DynamicTest> emulatedKernelsEqualTheReference() throws IOException {
        return fixtureFiles().stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            PostprocessFixture f = PostprocessFixture.read(file);
            HeadTensors heads = f.heads();
            List<List<Detection>> expected;
            try (ReferencePostProcessor ref = new ReferencePostProcessor(f.config(), List.of())) {
                expected = ref.process(heads, f.images());
            }
            try (NativePostProcessor nat = NativePostProcessor.create(Flavour.EMULATED, f.config(), List.of(),
                    HeadShape.of(heads))) {
                List<List<Detection>> actual = nat.process(heads, f.images());
                NativeTestSupport.assertSameDetections(file.getFileName().toString(), expected, actual);
                // a second call on the same buffers gives the same answer (state is not carried over)
                NativeTestSupport.assertSameDetections(file.getFileName() + " (2nd call)", expected,
                        nat.process(heads, f.images()));
                if (f.expected() != null && file.toString().contains("fixtures")) {
                    assertEquals(f.expected().size(), actual.size());
                    for (int n = 0; n < actual.size(); n++) {
                        assertEquals(f.expected().get(n).size(), actual.get(n).size(),
                                file.getFileName() + " image " + n + ": count vs the fixture's expected detections");
                    }
                }
            }
            assertEquals(0, NativePostProcessor.openHandles());
            assertEquals(0, NativePostProcessor.deviceBytes());
        }));
    }

    @Test
    void libraryIsTheEmulatedFlavour() {
        assertEquals(Flavour.EMULATED, NativeLibrary.loadedFlavour());
        assertTrue(Fcos4jC.fcos4j_is_emulated() != 0);
        assertFalse(Fcos4jC.fcos4j_version().getString().isEmpty());
    }
}
