package dev.fcos4j.nativ;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Raw JavaCPP mapping of the fcos4j C API (native/include/fcos4j/fcos4j.h). Low level: use
 * {@link NativePostProcessor}. Do not touch this class before {@link NativeLibrary#load} has loaded a
 * flavour (its static initializer is deliberately empty; {@code Loader.load} runs from NativeLibrary).
 */
@Platform(include = "fcos4j/fcos4j.h", link = "fcos4j")
public final class Fcos4jC {
    private Fcos4jC() {
    }

    public static final int FCOS4J_OK = 0;
    public static final int FCOS4J_ERR_INVALID_ARGUMENT = 1;
    public static final int FCOS4J_ERR_CUDA = 2;
    public static final int FCOS4J_ERR_NON_FINITE_INPUT = 3;
    public static final int FCOS4J_ERR_NO_DEVICE = 4;
    public static final int FCOS4J_ERR_INTERNAL = 5;
    public static final int FCOS4J_MAX_LEVELS = 8;
    public static final int FCOS4J_FLOAT32 = 0;

    /** fcos4j_params. */
    @Name("fcos4j_params")
    public static final class Params extends Pointer {
        public Params() {
            allocate();
        }

        private native void allocate();

        public native int convention();
        public native Params convention(int v);
        public native float score_threshold();
        public native Params score_threshold(float v);
        public native int nms_pre();
        public native Params nms_pre(int v);
        public native float iou_threshold();
        public native Params iou_threshold(float v);
        public native int max_detections();
        public native Params max_detections(int v);
        public native int num_levels();
        public native Params num_levels(int v);
        public native int strides(int i);
        public native Params strides(int i, int v);
    }

    /** fcos4j_shape. */
    @Name("fcos4j_shape")
    public static final class Shape extends Pointer {
        public Shape() {
            allocate();
        }

        private native void allocate();

        public native int batch();
        public native Shape batch(int v);
        public native int num_classes();
        public native Shape num_classes(int v);
        public native int num_levels();
        public native Shape num_levels(int v);
        public native int heights(int i);
        public native Shape heights(int i, int v);
        public native int widths(int i);
        public native Shape widths(int i, int v);
    }

    public static native @Cast("const char*") BytePointer fcos4j_version();
    public static native int fcos4j_is_emulated();
    public static native @Cast("const char*") BytePointer fcos4j_last_error();
    public static native int fcos4j_device_count(IntPointer count);
    public static native int fcos4j_image_info(int convention, int originalHeight, int originalWidth,
                                               int resizedHeight, int resizedWidth, FloatPointer out);
    public static native int fcos4j_device_alloc(@Cast("size_t") long bytes, @Cast("void**") PointerPointer<?> out);
    public static native int fcos4j_device_free(Pointer ptr);
    public static native int fcos4j_copy_to_device(Pointer dst, @Const Pointer src, @Cast("size_t") long bytes, Pointer stream);
    public static native int fcos4j_copy_to_host(Pointer dst, @Const Pointer src, @Cast("size_t") long bytes, Pointer stream);
    public static native int fcos4j_stream_create(@Cast("void**") PointerPointer<?> out);
    public static native int fcos4j_stream_destroy(Pointer stream);
    public static native int fcos4j_stream_synchronize(Pointer stream);
    public static native int fcos4j_postprocessor_create(@Const Params params, @Const Shape maxShape, int dtype,
                                                         @Cast("fcos4j_postprocessor**") PointerPointer<?> out);
    public static native void fcos4j_postprocessor_destroy(@Cast("fcos4j_postprocessor*") Pointer handle);
    public static native int fcos4j_postprocessor_workspace_size(@Cast("const fcos4j_postprocessor*") Pointer handle,
                                                                 SizeTPointer bytes);
    public static native int fcos4j_postprocessor_run_sync(@Cast("fcos4j_postprocessor*") Pointer handle,
            @Const Shape shape, @Cast("const void*const*") PointerPointer<?> cls,
            @Cast("const void*const*") PointerPointer<?> reg, @Cast("const void*const*") PointerPointer<?> ctr,
            @Const FloatPointer imageInfo, IntPointer numDetections, FloatPointer boxes, FloatPointer scores,
            IntPointer classes, Pointer stream);
}
