package dev.fcos4j;

/**
 * Where a {@link Detector} runs the network. Choosing {@link #CPU} loads no CUDA or TensorRT class.
 */
public enum Backend {
    /** ONNX Runtime on the CPU (fcos4j-core alone). */
    CPU,
    /**
     * A TensorRT engine on an NVIDIA GPU. Needs a {@link dev.fcos4j.contract.NetworkFactory} for this backend on
     * the class path (the fcos4j-tensorrt module registers one through {@link java.util.ServiceLoader}); options
     * go through {@link Detector.Builder#backendOption} (docs/TENSORRT-JAVA.md).
     */
    GPU_TENSORRT
}
