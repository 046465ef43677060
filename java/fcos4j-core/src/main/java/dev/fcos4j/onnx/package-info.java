/**
 * ONNX: {@link dev.fcos4j.onnx.OnnxRuntimeNetwork}, the CPU backend (ONNX Runtime, outputs bound to reusable
 * direct buffers), and {@link dev.fcos4j.onnx.OnnxModelWriter}, a dependency-free ONNX file writer used to
 * generate test and demo models.
 */
package dev.fcos4j.onnx;
