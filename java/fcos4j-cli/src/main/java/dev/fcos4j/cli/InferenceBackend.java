package dev.fcos4j.cli;

import dev.fcos4j.Backend;
import dev.fcos4j.Detector;
import picocli.CommandLine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A {@code --backend} value: {@code cpu} (ONNX Runtime), {@code trt-fp32} (also plain {@code trt}) or {@code trt-fp16}
 * (TensorRT on an NVIDIA GPU, fcos4j-tensorrt), plus the {@code --backend-option KEY=VALUE} pairs passed to the GPU backend. Parsing is
 * plain text: no backend class is touched until the detector is built.
 *
 * @param name    the value as given, for messages
 * @param backend the backend
 * @param options backend options (precision for trt-*, then the user's)
 */
record InferenceBackend(String name, Backend backend, Map<String, String> options) {
    /** The accepted values, for help texts. */
    static final String NAMES = "cpu, trt-fp32, trt-fp16, trt (= trt-fp32)";

    /**
     * Parses a backend name and KEY=VALUE options.
     *
     * @throws CommandLine.ParameterException (exit 2) for an unknown name or a malformed option
     */
    static InferenceBackend parse(CommandLine cl, String option, String name, List<String> backendOptions) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        Map<String, String> opts = new LinkedHashMap<>();
        Backend backend;
        switch (n) {
            case "cpu" -> backend = Backend.CPU;
            case "trt", "trt-fp32", "trt-fp16" -> {
                backend = Backend.GPU_TENSORRT;
                opts.put("precision", n.equals("trt") ? "fp32" : n.substring(4));
            }
            default -> throw new CommandLine.ParameterException(cl, option + " " + name + " is unknown (available: "
                    + NAMES + (n.startsWith("trt") ? "; int8 engines are not supported" : "") + ")");
        }
        for (String kv : backendOptions == null ? List.<String>of() : backendOptions) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(cl, "--backend-option " + kv + ": expected KEY=VALUE, e.g. "
                        + "engine_cache=/var/cache/fcos4j");
            }
            if (backend == Backend.CPU) {
                throw new CommandLine.ParameterException(cl, "--backend-option " + kv + " is for the TensorRT "
                        + "backends (trt-fp32, trt-fp16); " + option + " is cpu");
            }
            opts.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
        return new InferenceBackend(name, backend, Map.copyOf(opts));
    }

    /** Sets the backend and its options on a detector builder. */
    Detector.Builder applyTo(Detector.Builder builder) {
        builder.backend(backend);
        options.forEach(builder::backendOption);
        return builder;
    }
}
