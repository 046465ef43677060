package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorRtOptionsTest {
    @Test
    void noOptionsAreTheDocumentedDefaults() {
        TensorRtOptions o = TensorRtOptions.parse(Map.of());
        assertEquals(Precision.FP32, o.precision());
        assertEquals(8, o.maxBatch());
        assertEquals(1344, o.maxHeight());
        assertEquals(1344, o.maxWidth());
        assertEquals(0, o.device());
        assertEquals(1, o.contexts());
        assertTrue(o.engineCache().endsWith(Path.of("fcos4j", "tensorrt")), o.engineCache().toString());
        assertEquals(Set.of(), o.given());
    }

    @Test
    void everyKeyIsRead() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("precision", "FP16");
        m.put("engine_cache", "/tmp/engines");
        m.put("max_batch", "4");
        m.put("max_height", "800");
        m.put("max_width", " 1216 ");
        m.put("device", "1");
        m.put("contexts", "3");
        TensorRtOptions o = TensorRtOptions.parse(m);
        assertEquals(new TensorRtOptions(Precision.FP16, Path.of("/tmp/engines"), 4, 800, 1216, 1, 3, m.keySet()), o);
        assertEquals(800, o.optHeight());
        assertEquals(1216, o.optWidth());
        assertEquals(m.keySet(), o.given());
    }

    @Test
    void theOptimalShapeNeverExceedsTheMaximum() {
        TensorRtOptions o = TensorRtOptions.parse(Map.of("max_height", "640", "max_width", "480"));
        assertEquals(640, o.optHeight());
        assertEquals(480, o.optWidth());
    }

    @Test
    void anUnknownKeyIsNamedWithTheKnownOnes() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> TensorRtOptions.parse(Map.of("workspace", "1")));
        assertTrue(e.getMessage().contains("'workspace'"), e.getMessage());
        assertTrue(e.getMessage().contains("precision, engine_cache, max_batch"), e.getMessage());
    }

    @Test
    void badValuesNameTheKeyAndTheRule() {
        String[][] cases = {
                {"precision", "int8", "fp32, fp16"},
                {"max_batch", "0", "1..256"},
                {"max_batch", "eight", "integer"},
                {"max_height", "1000", "multiple of 32"},
                {"max_width", "16", "32..8192"},
                {"device", "-1", "0..1023"},
                {"contexts", "17", "1..16"},
                {"engine_cache", " ", "directory"},
        };
        for (String[] c : cases) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> TensorRtOptions.parse(Map.of(c[0], c[1])), c[0] + "=" + c[1]);
            String key = c[0].equals("precision") ? "precision" : c[0];
            assertTrue(e.getMessage().contains(key) && e.getMessage().contains(c[2]), e.getMessage());
        }
    }

    @Test
    void precisionParsesTheTwoIdsOnly() {
        assertEquals(Precision.FP16, Precision.parse("fp16"));
        assertEquals(Precision.FP32, Precision.parse(" Fp32 "));
        assertThrows(ConfigurationException.class, () -> Precision.parse("half"));
        assertThrows(ConfigurationException.class, () -> Precision.parse(null));
    }
}
