package dev.fcos4j.model;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.model.TinyFcosModel.Defect;
import dev.fcos4j.model.TinyFcosModel.Spec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TinyFcosModelTest {
    @TempDir
    Path dir;

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws Exception {
        Path a = dir.resolve("a.onnx");
        Path b = dir.resolve("b.onnx");
        TinyFcosModel.generate(a, 42, 80);
        TinyFcosModel.generate(b, 42, 80);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), TinyFcosModel.bytes(Spec.of(43, 80))));
        // small enough to generate at build time, never committed
        assertTrue(Files.size(a) < 2_000_000, "size " + Files.size(a));
    }

    @Test
    void commandLineWritesTheModel() throws Exception {
        Path out = dir.resolve("sub/cli.onnx");
        TinyFcosModel.main(new String[] {"--out", out.toString(), "--seed", "5", "--classes", "4"});
        assertArrayEquals(TinyFcosModel.bytes(Spec.of(5, 4)), Files.readAllBytes(out));
        TinyFcosModel.main(new String[] {"--out", dir.resolve("nan.onnx").toString(), "--defect", "nan_cls"});
        assertArrayEquals(TinyFcosModel.bytes(Spec.of(1, 80).withDefect(Defect.NAN_CLS)),
                Files.readAllBytes(dir.resolve("nan.onnx")));
    }

    @Test
    void specRejectsImpossibleShapes() {
        assertThrows(ConfigurationException.class, () -> Spec.of(1, 0));
        assertThrows(ConfigurationException.class, () -> new Spec(1, 3, 10, 4, Defect.NONE));
        assertEquals(Defect.NONE, new Spec(1, 3, 8, 4, null).defect());
    }
}
