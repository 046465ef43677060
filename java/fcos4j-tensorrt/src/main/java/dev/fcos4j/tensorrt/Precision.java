package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;

import java.util.Locale;

/** The arithmetic TensorRT may use inside the engine; the engine's inputs and outputs stay float32 either way. */
public enum Precision {
    /** float32 everywhere (TF32 tensor cores are not enabled, so results follow ONNX Runtime's closely). */
    FP32("fp32"),
    /** TensorRT may run layers in float16 where it is faster; answers move slightly (docs/TENSORRT-JAVA.md). */
    FP16("fp16");

    private final String id;

    Precision(String id) {
        this.id = id;
    }

    /** The option value and cache-file spelling: fp32, fp16. */
    public String id() {
        return id;
    }

    /**
     * Parses fp32 / fp16 (any case).
     *
     * @throws ConfigurationException for anything else, naming the value and the accepted ones
     */
    public static Precision parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        for (Precision p : values()) {
            if (p.id.equals(v)) {
                return p;
            }
        }
        throw new ConfigurationException("TensorRT precision '" + value + "' is unknown (accepted: fp32, fp16)");
    }
}
