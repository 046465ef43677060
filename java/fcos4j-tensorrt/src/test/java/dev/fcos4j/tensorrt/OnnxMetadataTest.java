package dev.fcos4j.tensorrt;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.model.TinyFcosModel;
import dev.fcos4j.onnx.OnnxModelWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxMetadataTest {
    @TempDir
    Path dir;

    @Test
    void readsWhatOnnxRuntimeReads() throws Exception {
        Path model = dir.resolve("tiny.onnx");
        TinyFcosModel.generate(model, 7, 5);
        Map<String, String> ours = OnnxMetadata.read(model);
        Map<String, String> ort;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
             OrtSession s = env.createSession(model.toString(), so)) {
            ort = s.getMetadata().getCustomMetadata();
        }
        assertEquals(ort, ours);
        assertEquals(TinyFcosModel.metadata(5).classNames(), ModelMetadata.fromProperties(ours).classNames());
    }

    @Test
    void keepsOrderAndUnicodeAndTheLastOfARepeatedKey() throws Exception {
        OnnxModelWriter w = new OnnxModelWriter(17, "test", "g");
        w.input("x", OnnxModelWriter.FLOAT, 1L);
        w.output("y", OnnxModelWriter.FLOAT, 1L);
        w.node("Identity", java.util.List.of("x"), java.util.List.of("y"));
        w.metadata("b", "first").metadata("a", "chat \u732b").metadata("b", "second");
        Path f = dir.resolve("meta.onnx");
        w.write(f);
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("b", "second");
        expected.put("a", "chat \u732b");
        assertEquals(expected, OnnxMetadata.read(f));
        assertEquals("[b, a]", OnnxMetadata.read(f).keySet().toString());
    }

    @Test
    void truncatedOrEmptyFilesAreNamedContractErrors() throws Exception {
        Path model = dir.resolve("tiny.onnx");
        TinyFcosModel.generate(model, 7, 5);
        byte[] bytes = Files.readAllBytes(model);
        Path cut = dir.resolve("cut.onnx");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 3));
        ModelContractException e = assertThrows(ModelContractException.class, () -> OnnxMetadata.read(cut));
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("not an ONNX model"),
                e.getMessage());
        Path empty = dir.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        e = assertThrows(ModelContractException.class, () -> OnnxMetadata.read(empty));
        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
        Path text = dir.resolve("text.onnx");
        Files.writeString(text, "this is not protobuf at all\n");
        assertThrows(ModelContractException.class, () -> OnnxMetadata.read(text));
    }
}
