package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineCacheKeyTest {
    @TempDir
    Path dir;

    @Test
    void sha256MatchesTheFipsTestVector() throws Exception {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        Path f = dir.resolve("abc.onnx");
        Files.write(f, "abc".getBytes(StandardCharsets.US_ASCII));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", EngineCacheKey.sha256(f));
    }

    @Test
    void theFileNameSpellsEveryPart() throws Exception {
        Path f = dir.resolve("m.onnx");
        Files.write(f, "abc".getBytes(StandardCharsets.US_ASCII));
        TensorRtOptions o = TensorRtOptions.parse(Map.of("precision", "fp16", "max_batch", "4", "max_height", "800",
                "max_width", "1344"));
        EngineCacheKey k = EngineCacheKey.of(f, o, "10.15.1", 8, 6);
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad-fp16-b4h800w1344p3-trt10.15.1-sm86.plan",
                EngineCacheKey.of(f, TensorRtOptions.parse(Map.of("precision", "fp16", "max_batch", "4",
                        "max_height", "800", "contexts", "3")), "10.15.1", 8, 6).fileName());
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad-fp16-b4h800w1344p1-trt10.15.1-sm86.plan",
                k.fileName());
    }

    @Test
    void everyIngredientChangesTheName() {
        String sha = "0".repeat(64);
        List<EngineCacheKey> keys = List.of(
                new EngineCacheKey(sha, Precision.FP32, 8, 1344, 1344, 1, "10.15.1", 8, 6),
                new EngineCacheKey("1" + "0".repeat(63), Precision.FP32, 8, 1344, 1344, 1, "10.15.1", 8, 6),
                new EngineCacheKey(sha, Precision.FP16, 8, 1344, 1344, 1, "10.15.1", 8, 6),
                new EngineCacheKey(sha, Precision.FP32, 4, 1344, 1344, 1, "10.15.1", 8, 6),
                new EngineCacheKey(sha, Precision.FP32, 8, 800, 1344, 1, "10.15.1", 8, 6),
                new EngineCacheKey(sha, Precision.FP32, 8, 1344, 800, 1, "10.15.1", 8, 6),
                new EngineCacheKey(sha, Precision.FP32, 8, 1344, 1344, 2, "10.15.1", 8, 6),
                new EngineCacheKey(sha, Precision.FP32, 8, 1344, 1344, 1, "10.16.0", 8, 6),
                new EngineCacheKey(sha, Precision.FP32, 8, 1344, 1344, 1, "10.15.1", 9, 0),
                new EngineCacheKey(sha, Precision.FP32, 8, 1344, 1344, 1, "10.15.1", 8, 9));
        Set<String> names = new HashSet<>();
        for (EngineCacheKey k : keys) {
            names.add(k.fileName());
        }
        assertEquals(keys.size(), names.size(), names.toString());
    }

    @Test
    void versionNumbersFollowTensorRt10sEncoding() {
        // NvInferVersion.h (TensorRT 10): NV_TENSORRT_VERSION = major * 10000 + minor * 100 + patch.
        assertEquals("10.15.1", EngineCacheKey.versionString(10 * 10000 + 15 * 100 + 1));
        assertEquals("10.0.0", EngineCacheKey.versionString(100000));
        assertEquals("10.3.12", EngineCacheKey.versionString(100312));
    }

    @Test
    void anUnreadableModelIsNamed() {
        Path missing = dir.resolve("missing.onnx");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> EngineCacheKey.sha256(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new EngineCacheKey("ABC", Precision.FP32, 1, 32, 32, 1, "10.15.1", 8, 6));
    }

    @Test
    void theProfileCoversDynamicDimensionsAndKeepsFixedOnes() {
        TensorRtOptions o = TensorRtOptions.parse(Map.of("max_batch", "4", "max_height", "1024", "max_width", "1344"));
        long[][] dynamic = o.profileBounds(new long[] {-1, 3, -1, -1});
        assertArrayEquals(new long[] {1, 3, 32, 32}, dynamic[0]);
        assertArrayEquals(new long[] {1, 3, 800, 1344}, dynamic[1]);
        assertArrayEquals(new long[] {4, 3, 1024, 1344}, dynamic[2]);
        long[][] fixed = o.profileBounds(new long[] {2, 3, 640, -1});
        assertArrayEquals(new long[] {2, 3, 640, 32}, fixed[0], Arrays.deepToString(fixed));
        assertArrayEquals(new long[] {2, 3, 640, 1344}, fixed[1]);
        assertArrayEquals(new long[] {2, 3, 640, 1344}, fixed[2]);
    }
}
