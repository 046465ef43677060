package dev.fcos4j.tensorrt;

import org.bytedeco.tensorrt.global.nvinfer.DataType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TensorRT data types as the contract names them and as buffers size them (the binding's enum is plain Java). */
class TensorTypesTest {
    @Test
    void theContractsTypeIsFloat32AndHalfIsNotMistakenForIt() {
        assertEquals("float32", TensorTypes.name(DataType.kFLOAT));
        assertEquals("float16", TensorTypes.name(DataType.kHALF));
        assertEquals("bfloat16", TensorTypes.name(DataType.kBF16));
        assertEquals("int64", TensorTypes.name(DataType.kINT64));
        assertEquals("unknown", TensorTypes.name(null));
    }

    @Test
    void elementSizesFollowTheTypesWidth() {
        assertEquals(32, TensorTypes.bits(DataType.kFLOAT));
        assertEquals(32, TensorTypes.bits(DataType.kINT32));
        assertEquals(16, TensorTypes.bits(DataType.kHALF));
        assertEquals(16, TensorTypes.bits(DataType.kBF16));
        assertEquals(64, TensorTypes.bits(DataType.kINT64));
        assertEquals(8, TensorTypes.bits(DataType.kBOOL));
        assertEquals(8, TensorTypes.bits(DataType.kFP8));
        assertEquals(4, TensorTypes.bits(DataType.kINT4));
        assertEquals(4, TensorTypes.bits(DataType.kFP4));
        assertEquals(64, TensorTypes.bits(null), "unknown: the widest, so that a buffer is never short");
    }

    @Test
    void everyTypeOfTheBindingHasANameAndASize() {
        for (DataType t : DataType.values()) {
            assertFalse(TensorTypes.name(t).isEmpty(), t.toString());
            assertFalse(TensorTypes.name(t).equals("unknown"), t.toString());
            assertTrue(TensorTypes.bits(t) > 0, t.toString());
        }
    }

    @Test
    void bytesRoundPackedSubByteTypesUp() {
        assertEquals(40, TensorTypes.bytes(10, 32));
        assertEquals(20, TensorTypes.bytes(10, 16));
        assertEquals(5, TensorTypes.bytes(10, 4));
        assertEquals(6, TensorTypes.bytes(11, 4));
        assertEquals(0, TensorTypes.bytes(0, 32));
    }
}
