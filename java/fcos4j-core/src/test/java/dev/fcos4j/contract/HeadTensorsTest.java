package dev.fcos4j.contract;

import dev.fcos4j.ModelContractException;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeadTensorsTest {
    @Test
    void acceptsMatchingSizes() {
        LevelShape s = new LevelShape(8, 2, 3);
        HeadTensors h = HeadTensors.of(2, 5, List.of(s), List.of(FloatBuffer.allocate(2 * 5 * 6)),
                List.of(FloatBuffer.allocate(2 * 4 * 6)), List.of(FloatBuffer.allocate(2 * 6)));
        assertEquals(2, h.batch());
        assertEquals(5, h.numClasses());
        assertEquals(6, h.level(0).points());
    }

    @Test
    void namesTheTensorWithTheWrongSize() {
        LevelShape s = new LevelShape(8, 2, 3);
        ModelContractException e = assertThrows(ModelContractException.class, () -> HeadTensors.of(1, 5, List.of(s),
                List.of(FloatBuffer.allocate(30)), List.of(FloatBuffer.allocate(23)), List.of(FloatBuffer.allocate(6))));
        assertTrue(e.getMessage().contains("reg_0"), e.getMessage());
        assertTrue(e.getMessage().contains("[1,4,2,3]"), e.getMessage());
    }
}
