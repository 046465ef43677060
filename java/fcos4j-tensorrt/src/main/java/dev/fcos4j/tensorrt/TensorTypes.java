package dev.fcos4j.tensorrt;

import dev.fcos4j.contract.TensorSpec;
import org.bytedeco.tensorrt.global.nvinfer.DataType;

/**
 * TensorRT data types as the contract names them and as buffers size them. Plain Java: {@link DataType} is a Java
 * enum of the binding that loads no native code, so this is tested without a GPU.
 */
final class TensorTypes {
    private TensorTypes() {
    }

    /** The ONNX-style element type name ({@code float32}, {@code float16}, ...) used by {@link TensorSpec}. */
    static String name(DataType t) {
        if (t == null) {
            return "unknown"; // a value newer than this binding's enum
        }
        return switch (t) {
            case kFLOAT -> TensorSpec.FLOAT32;
            case kHALF -> "float16";
            case kBF16 -> "bfloat16";
            case kINT32 -> "int32";
            case kINT64 -> "int64";
            case kINT8 -> "int8";
            case kUINT8 -> "uint8";
            case kBOOL -> "bool";
            case kFP8 -> "float8e4m3";
            case kINT4 -> "int4";
            case kFP4 -> "float4e2m1";
            case kE8M0 -> "float8e8m0";
        };
    }

    /** Bits of one element (4 for the packed sub-byte types; 64, the widest, when unknown). */
    static int bits(DataType t) {
        if (t == null) {
            return 64;
        }
        return switch (t) {
            case kFLOAT, kINT32 -> 32;
            case kHALF, kBF16 -> 16;
            case kINT64 -> 64;
            case kINT8, kUINT8, kBOOL, kFP8, kE8M0 -> 8;
            case kINT4, kFP4 -> 4;
        };
    }

    /** Bytes that {@code elements} elements of {@code bits} bits occupy (sub-byte types packed, rounded up). */
    static long bytes(long elements, int bits) {
        return (Math.multiplyExact(elements, (long) bits) + 7) / 8;
    }
}
