package dev.fcos4j.tensorrt;

import dev.fcos4j.ModelContractException;
import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.model.TinyFcosModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The metadata file kept beside a plan (plain Java; no engine involved). */
class SidecarTest {
    @TempDir
    Path dir;

    @Test
    void theModelsMetadataSurvivesTheRoundTrip() throws Exception {
        Path model = dir.resolve("tiny.onnx");
        TinyFcosModel.generate(model, 3, 4);
        Map<String, String> props = new TreeMap<>(OnnxMetadata.read(model));
        props.put(TensorRtEngine.KEY_PRECISION, "fp16");
        props.put("fcos4j.note", "caf\u00e9 = \u732b, with = and : and \\ inside");
        Path plan = dir.resolve("x.plan");
        TensorRtEngine.writeSidecar(plan, props);
        Path sidecar = dir.resolve("x.plan.properties");
        assertTrue(Files.isRegularFile(sidecar));
        Map<String, String> back = TensorRtEngine.readSidecar(sidecar);
        assertEquals(props, back);
        // PreprocessConfig holds arrays (record equals compares them by identity): compare the properties form.
        assertEquals(ModelMetadata.fromProperties(OnnxMetadata.read(model)).toProperties(),
                ModelMetadata.fromProperties(back).toProperties());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.filter(p -> p.toString().endsWith(".part")).count(), "no temporary file left");
        }
    }

    @Test
    void anUnreadableSidecarIsAContractErrorNamingIt() throws Exception {
        Path sidecar = dir.resolve("y.plan.properties");
        Files.write(sidecar, new byte[] {'a', '=', '\\', 'u', '1'}); // a truncated \\u escape
        ModelContractException e = assertThrows(ModelContractException.class, () -> TensorRtEngine.readSidecar(sidecar));
        assertTrue(e.getMessage().contains(sidecar.toString()), e.getMessage());
    }

    @Test
    void planFilesAreRecognisedByName() {
        assertTrue(TensorRtEngine.isPlan(Path.of("a/model.plan")));
        assertTrue(TensorRtEngine.isPlan(Path.of("model.ENGINE")));
        assertTrue(TensorRtEngine.isPlan(Path.of("model.trt")));
        assertTrue(!TensorRtEngine.isPlan(Path.of("model.onnx")));
    }
}
