package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.ModelContractException;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Buffer offsets and sizes of one run from the output shapes TensorRT reports (no GPU needed). */
class RunLayoutTest {
    static final List<Integer> STRIDES = List.of(8, 16, 32, 64, 128);

    /**
     * The output shapes of an {@code n x 3 x 64 x 96} input with C classes, written out by hand: P3 8x12, P4 4x6,
     * P5 2x3, P6 ceil(2/2) x ceil(3/2) = 1x2, P7 1x1.
     */
    static Map<String, long[]> shapes64x96(int n, int c) {
        int[][] hw = {{8, 12}, {4, 6}, {2, 3}, {1, 2}, {1, 1}};
        Map<String, long[]> m = new HashMap<>();
        for (int l = 0; l < 5; l++) {
            m.put("cls_" + l, new long[] {n, c, hw[l][0], hw[l][1]});
            m.put("reg_" + l, new long[] {n, 4, hw[l][0], hw[l][1]});
            m.put("ctr_" + l, new long[] {n, 1, hw[l][0], hw[l][1]});
        }
        return m;
    }

    static RunLayout layout(int n, Map<String, long[]> shapes, List<String> extra, Map<String, Integer> bits) {
        return RunLayout.of("m.onnx on a batch", n, 64, 96, 80, STRIDES, extra, shapes::get,
                name -> bits.getOrDefault(name, 32));
    }

    @Test
    void contractOutputsComeFirstInLevelOrderOnAlignedOffsets() {
        RunLayout r = layout(1, shapes64x96(1, 80), List.of(), Map.of());
        assertEquals(4L * 3 * 64 * 96, r.inputBytes());
        assertEquals(List.of("cls_0", "reg_0", "ctr_0", "cls_1", "reg_1", "ctr_1", "cls_2", "reg_2", "ctr_2",
                "cls_3", "reg_3", "ctr_3", "cls_4", "reg_4", "ctr_4"), r.names());
        assertEquals(15, r.hostCount());
        // cls_0: 80*8*12 floats = 30720 bytes (a multiple of 256); reg_0: 4*96*4 = 1536; ctr_0: 384 -> 512.
        assertEquals(0, r.offset(0));
        assertEquals(30720, r.bytes(0));
        assertEquals(30720, r.offset(1));
        assertEquals(1536, r.bytes(1));
        assertEquals(32256, r.offset(2));
        assertEquals(384, r.bytes(2));
        assertEquals(32768, r.offset(3));
        // The last one, ctr_4 (1x1: 4 bytes), ends the host buffer on a 256-byte boundary.
        assertEquals(4, r.bytes(14));
        assertEquals(r.offset(14) + 256, r.hostBytes());
        assertEquals(r.hostBytes(), r.deviceBytes());
        for (int i = 0; i < 15; i++) {
            assertEquals(0, r.offset(i) % 256, r.names().get(i));
            if (i > 0) {
                assertTrue(r.offset(i - 1) + r.bytes(i - 1) <= r.offset(i), "overlap at " + r.names().get(i));
            }
        }
    }

    @Test
    void sizesFollowTheBatchWithinTheProfile() {
        RunLayout one = layout(1, shapes64x96(1, 80), List.of(), Map.of());
        RunLayout three = layout(3, shapes64x96(3, 80), List.of(), Map.of());
        assertEquals(3 * one.inputBytes(), three.inputBytes());
        for (int i = 0; i < 15; i++) {
            assertEquals(3 * one.bytes(i), three.bytes(i), one.names().get(i));
        }
        assertTrue(three.hostBytes() > 2 * one.hostBytes());
    }

    @Test
    void otherOutputsLiveOnTheDeviceAfterTheContractsOnes() {
        Map<String, long[]> shapes = shapes64x96(1, 80);
        shapes.put("features", new long[] {1, 16, 8, 12});
        shapes.put("mask", new long[] {1, 1, 8, 13});
        RunLayout r = layout(1, shapes, List.of("features", "mask"), Map.of("features", 16, "mask", 4));
        RunLayout plain = layout(1, shapes64x96(1, 80), List.of(), Map.of());
        assertEquals(plain.hostBytes(), r.hostBytes(), "the host buffer holds the contract's outputs only");
        assertEquals(15, r.hostCount());
        assertEquals("features", r.names().get(15));
        assertEquals(r.hostBytes(), r.offset(15));
        assertEquals(16 * 8 * 12 * 2, r.bytes(15));
        assertEquals((8 * 13 + 1) / 2, r.bytes(16)); // 4-bit elements, packed
        assertEquals(r.offset(16) + 256, r.deviceBytes());
    }

    @Test
    void aContractOutputOfAnotherShapeNamesTensorAndLevel() {
        Map<String, long[]> shapes = shapes64x96(1, 80);
        shapes.put("cls_2", new long[] {1, 81, 2, 3});
        ModelContractException e = assertThrows(ModelContractException.class,
                () -> layout(1, shapes, List.of(), Map.of()));
        assertTrue(e.getMessage().contains("'cls_2' has shape [1, 81, 2, 3], the contract gives [1, 80, 2, 3]")
                && e.getMessage().contains("level 2, stride 32") && e.getMessage().contains("m.onnx"), e.getMessage());
        // P6 from a padding-0 conv would be 1x1, not ceil(3/2) = 2.
        Map<String, long[]> p6 = shapes64x96(1, 80);
        p6.put("reg_3", new long[] {1, 4, 1, 1});
        e = assertThrows(ModelContractException.class, () -> layout(1, p6, List.of(), Map.of()));
        assertTrue(e.getMessage().contains("'reg_3'") && e.getMessage().contains("[1, 4, 1, 2]"), e.getMessage());
        // No shape at all (TensorRT reports nbDims -1 when it cannot infer one).
        Map<String, long[]> none = shapes64x96(1, 80);
        none.put("ctr_0", new long[0]);
        e = assertThrows(ModelContractException.class, () -> layout(1, none, List.of(), Map.of()));
        assertTrue(e.getMessage().contains("'ctr_0' has shape []"), e.getMessage());
    }

    @Test
    void aDataDependentShapeIsAContractError() {
        Map<String, long[]> shapes = shapes64x96(1, 80);
        shapes.put("boxes", new long[] {1, -1, 4});
        ModelContractException e = assertThrows(ModelContractException.class,
                () -> layout(1, shapes, List.of("boxes"), Map.of()));
        assertTrue(e.getMessage().contains("'boxes' has a data-dependent shape [1, -1, 4]"), e.getMessage());
    }

    @Test
    void aTensorBeyondOneJavaBufferNamesItAndTheOptions() {
        // 64 x 3 x 2048 x 2048 float32 = 3 GiB.
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> RunLayout.of("m.onnx", 64, 2048, 2048, 80, STRIDES, List.of(), name -> new long[0], name -> 32));
        assertTrue(e.getMessage().contains("'images' needs 3221225472 bytes") && e.getMessage().contains("max_batch"),
                e.getMessage());
    }

    @Test
    void roundingUp() {
        long mib = 1 << 20;
        assertEquals(0, RunLayout.roundUp(0, mib));
        assertEquals(mib, RunLayout.roundUp(1, mib));
        assertEquals(mib, RunLayout.roundUp(mib, mib));
        assertEquals(2 * mib, RunLayout.roundUp(mib + 1, mib));
        assertEquals(256, RunLayout.align(4));
        assertEquals(30720, RunLayout.align(30720));
    }
}
