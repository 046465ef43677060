package dev.fcos4j.nativ;

import dev.fcos4j.Detection;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shared test helpers: skip without a native build, compare detection lists. */
public final class NativeTestSupport {
    private NativeTestSupport() {
    }

    public static Path root() {
        return Paths.get(System.getProperty("fcos4j.root", "../..")).toAbsolutePath().normalize();
    }

    public static Path nativeDir() {
        String d = System.getProperty(NativeLibrary.DIR_PROPERTY);
        return d == null ? root().resolve("build/native") : Paths.get(d);
    }

    /** Skips (with the reason) unless the emulated flavour was built, then loads it. */
    public static void requireEmulated() {
        Path lib = nativeDir().resolve("jni/emulated/libfcos4j.so.0");
        Assumptions.assumeTrue(Files.isRegularFile(lib),
                "native build absent (" + lib + "): run `make native` and pass -Dfcos4j.native.dir");
        NativeLibrary.load(Flavour.EMULATED);
    }

    /** Same detections: count, classes and bit-equal boxes and scores (the spec's arithmetic is exact float32). */
    public static void assertSameDetections(String what, List<List<Detection>> expected, List<List<Detection>> actual) {
        assertEquals(expected.size(), actual.size(), what + ": number of images");
        for (int n = 0; n < expected.size(); n++) {
            List<Detection> e = expected.get(n);
            List<Detection> a = actual.get(n);
            assertEquals(e.size(), a.size(), what + " image " + n + ": number of detections");
            for (int i = 0; i < e.size(); i++) {
                Detection x = e.get(i);
                Detection y = a.get(i);
                String at = what + " image " + n + " detection " + i + ": expected " + x + " got " + y;
                assertEquals(x.classId(), y.classId(), at);
                assertEquals(x.label(), y.label(), at);
                assertEquals(Float.floatToIntBits(x.score()), Float.floatToIntBits(y.score()), at);
                assertEquals(Float.floatToIntBits(x.x1()), Float.floatToIntBits(y.x1()), at);
                assertEquals(Float.floatToIntBits(x.y1()), Float.floatToIntBits(y.y1()), at);
                assertEquals(Float.floatToIntBits(x.x2()), Float.floatToIntBits(y.x2()), at);
                assertEquals(Float.floatToIntBits(x.y2()), Float.floatToIntBits(y.y2()), at);
            }
        }
    }
}
