/**
 * The GPU backend: a contract model (engines/CONTRACT.md) as a TensorRT 10 engine, run with CUDA streams and pinned
 * host buffers. {@link dev.fcos4j.tensorrt.TensorRtNetworkFactory} registers it for
 * {@link dev.fcos4j.Backend#GPU_TENSORRT}; nothing here loads native code until a network is opened
 * (docs/TENSORRT-JAVA.md).
 */
package dev.fcos4j.tensorrt;
