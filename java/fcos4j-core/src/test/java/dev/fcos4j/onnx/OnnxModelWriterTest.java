package dev.fcos4j.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.fcos4j.onnx.OnnxModelWriter.Attribute;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The writer's bytes, read by ONNX Runtime, compute what the graph says (checked against hand arithmetic). */
class OnnxModelWriterTest {
    @Test
    void graphWithInitializersAttributesAndMetadataRunsInOnnxRuntime() throws Exception {
        OnnxModelWriter w = new OnnxModelWriter(17, "test", "g");
        w.input("x", OnnxModelWriter.FLOAT, "N", 3);
        w.initializer("scale", new long[] {3}, new float[] {2f, -1f, 0.5f});
        w.initializer("shift", new long[] {}, new float[] {10f});
        w.initializer("perm_shape", new long[] {2}, new long[] {3, -1});
        String scaled = w.node("Mul", List.of("x", "scale"));
        String shifted = w.node("Add", List.of(scaled, "shift"));
        // Transpose [N,3] -> [3,N] exercises an INTS attribute; LeakyRelu a FLOAT attribute with a negative input.
        String t = w.node("Transpose", List.of(shifted), Attribute.ofInts("perm", 1, 0));
        // Reshape to [3, -1] keeps the shape but reads the int64 initializer.
        String reshaped = w.node("Reshape", List.of(t, "perm_shape"));
        w.node("LeakyRelu", List.of(reshaped), List.of("y"), Attribute.ofFloat("alpha", 0.25f));
        w.output("y", OnnxModelWriter.FLOAT, 3, "N");
        w.metadata("k1", "v1").metadata("k2", "[\"a\",\"b\"]");

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(w.toBytes(), new OrtSession.SessionOptions());
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[] {1, 2, 3, -10, 20, -40}),
                     new long[] {2, 3});
             OrtSession.Result r = s.run(Map.of("x", x))) {
            float[] y = ((OnnxTensor) r.get(0)).getFloatBuffer().array();
            // row 0: 1*2+10=12, 2*-1+10=8, 3*.5+10=11.5 ; row 1: -20+10=-10 -> -2.5, -20+10=-10 -> -2.5, -20+10=-10 -> -2.5
            assertArrayEquals(new float[] {12f, -2.5f, 8f, -2.5f, 11.5f, -2.5f}, y);
            assertEquals(Map.of("k1", "v1", "k2", "[\"a\",\"b\"]"), s.getMetadata().getCustomMetadata());
        }
    }

    @Test
    void sameCallsGiveSameBytes() {
        byte[] a = smallModel();
        byte[] b = smallModel();
        assertArrayEquals(a, b);
    }

    private static byte[] smallModel() {
        OnnxModelWriter w = new OnnxModelWriter(17, "test", "g");
        w.input("x", OnnxModelWriter.FLOAT, 1);
        w.node("Relu", List.of("x"), List.of("y"));
        w.output("y", OnnxModelWriter.FLOAT, 1);
        w.metadata("a", "b");
        return w.toBytes();
    }
}
