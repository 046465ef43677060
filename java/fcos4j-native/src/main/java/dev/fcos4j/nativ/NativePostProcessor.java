package dev.fcos4j.nativ;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.Detection;
import dev.fcos4j.InvalidHeadOutputException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.NativeLibraryException;
import dev.fcos4j.ResourceClosedException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.memory.LeakTracker;
import dev.fcos4j.postprocess.DetectionArrays;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.PostProcessor;
import dev.fcos4j.preprocess.ImageMeta;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Post-processing by the native kernels through the fcos4j C API: on a GPU ({@link Flavour#CUDA}, the
 * "CudaPostProcessor") or the same kernels executed on the CPU ({@link Flavour#EMULATED}, for verification; slow).
 * Same semantics as the Java {@code ReferencePostProcessor} (engines/POSTPROCESS.md).
 *
 * <p>Holds a native post-processor for a maximum {@link HeadShape}, a CUDA stream, device buffers for the heads,
 * image info and outputs, and host staging buffers, all allocated once at creation: a call allocates no device
 * memory. Calls are serialized on this object (thread-safe, one at a time). {@link #close()} is idempotent;
 * any other method after it throws {@link ResourceClosedException}.
 */
public final class NativePostProcessor implements PostProcessor {
    private static final AtomicInteger OPEN_HANDLES = new AtomicInteger();
    private static final AtomicLong DEVICE_BYTES = new AtomicLong();

    private final Flavour flavour;
    private final PostProcessConfig config;
    private final List<String> classNames;
    private final HeadShape maxShape;
    private final int levels;
    private final int k;

    private final NativeHandles natives = new NativeHandles();
    private LeakTracker.Registration leakRegistration;
    private final Pointer[] dCls;
    private final Pointer[] dReg;
    private final Pointer[] dCtr;
    private Pointer dInfo;
    private Pointer dCount;
    private Pointer dBoxes;
    private Pointer dScores;
    private Pointer dClasses;
    private final FloatPointer staging;
    private final FloatPointer hInfo;
    private final IntPointer hCount;
    private final FloatPointer hBoxes;
    private final FloatPointer hScores;
    private final IntPointer hClasses;
    private final PointerPointer<Pointer> clsPtrs;
    private final PointerPointer<Pointer> regPtrs;
    private final PointerPointer<Pointer> ctrPtrs;
    private final Fcos4jC.Shape shape = new Fcos4jC.Shape();
    private boolean closed;

    /**
     * Creates a native post-processor (loads the flavour if needed).
     *
     * @param flavour    emulated or cuda
     * @param config     post-processing configuration
     * @param classNames labels (empty: "class_N"); when not empty its size must equal {@code maxShape.numClasses()}
     * @param maxShape   the largest heads this object will process (strides are fixed by it)
     * @throws NativeLibraryException the library is missing / does not load ({@link NoCudaDeviceException} without GPU)
     * @throws ConfigurationException the native library rejects the configuration or shape
     */
    public static NativePostProcessor create(Flavour flavour, PostProcessConfig config, List<String> classNames,
                                             HeadShape maxShape) {
        NativeLibrary.load(flavour);
        return new NativePostProcessor(flavour, config, classNames, maxShape);
    }

    /** Number of native post-processors created and not yet closed (all instances of this JVM). */
    public static int openHandles() {
        return OPEN_HANDLES.get();
    }

    /** Device bytes held by open native post-processors' buffers (excluding the library's own workspace). */
    public static long deviceBytes() {
        return DEVICE_BYTES.get();
    }

    private NativePostProcessor(Flavour flavour, PostProcessConfig config, List<String> classNames, HeadShape maxShape) {
        if (config == null || classNames == null || maxShape == null) {
            throw new IllegalArgumentException("config, class names and max shape must not be null");
        }
        if (!classNames.isEmpty() && classNames.size() != maxShape.numClasses()) {
            throw new ConfigurationException(classNames.size() + " class names given for " + maxShape.numClasses() + " classes");
        }
        this.flavour = flavour;
        this.config = config;
        this.classNames = List.copyOf(classNames);
        this.maxShape = maxShape;
        this.levels = maxShape.levels().size();
        this.k = config.maxDetections();
        int b = maxShape.batch();
        dCls = new Pointer[levels];
        dReg = new Pointer[levels];
        dCtr = new Pointer[levels];
        long maxLevelFloats = 0;
        clsPtrs = new PointerPointer<>(levels);
        regPtrs = new PointerPointer<>(levels);
        ctrPtrs = new PointerPointer<>(levels);
        hInfo = new FloatPointer(4L * b);
        hCount = new IntPointer(b);
        hBoxes = new FloatPointer(4L * b * k);
        hScores = new FloatPointer((long) b * k);
        hClasses = new IntPointer((long) b * k);
        boolean ok = false;
        try (Fcos4jC.Params params = new Fcos4jC.Params(); Fcos4jC.Shape max = new Fcos4jC.Shape();
             PointerPointer<Pointer> out = new PointerPointer<>(1)) {
            params.convention(config.convention().ordinal()).score_threshold(config.scoreThreshold())
                    .nms_pre(config.nmsPre()).iou_threshold(config.iouThreshold())
                    .max_detections(config.maxDetections()).num_levels(levels);
            max.batch(b).num_classes(maxShape.numClasses()).num_levels(levels);
            for (int l = 0; l < levels; l++) {
                LevelShape s = maxShape.levels().get(l);
                params.strides(l, s.stride());
                max.heights(l, s.height()).widths(l, s.width());
            }
            int st = Fcos4jC.fcos4j_postprocessor_create(params, max, Fcos4jC.FCOS4J_FLOAT32, out);
            if (st != Fcos4jC.FCOS4J_OK) {
                throw error("fcos4j_postprocessor_create", st, true);
            }
            natives.handle = out.get(0);
            OPEN_HANDLES.incrementAndGet();
            out.put(0, (Pointer) null);
            st = Fcos4jC.fcos4j_stream_create(out);
            if (st != Fcos4jC.FCOS4J_OK) {
                throw error("fcos4j_stream_create", st, false);
            }
            natives.stream = out.get(0);
            for (int l = 0; l < levels; l++) {
                LevelShape s = maxShape.levels().get(l);
                long points = (long) b * s.height() * s.width();
                dCls[l] = alloc(points * maxShape.numClasses() * 4);
                dReg[l] = alloc(points * 4 * 4);
                dCtr[l] = alloc(points * 4);
                maxLevelFloats = Math.max(maxLevelFloats, points * Math.max(4, maxShape.numClasses()));
            }
            dInfo = alloc(16L * b);
            dCount = alloc(4L * b);
            dBoxes = alloc(16L * b * k);
            dScores = alloc(4L * b * k);
            dClasses = alloc(4L * b * k);
            ok = true;
        } finally {
            if (!ok) {
                release();
            }
        }
        staging = new FloatPointer(maxLevelFloats);
        leakRegistration = LeakTracker.register(this, "NativePostProcessor (" + flavour.id() + ", max " + maxShape + ")",
                natives::free);
    }

    private Pointer alloc(long bytes) {
        try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
            int st = Fcos4jC.fcos4j_device_alloc(bytes, out);
            if (st != Fcos4jC.FCOS4J_OK) {
                throw error("fcos4j_device_alloc(" + bytes + " bytes)", st, false);
            }
            Pointer p = out.get(0);
            natives.deviceBuffers.add(p);
            natives.deviceSizes.add(bytes);
            DEVICE_BYTES.addAndGet(bytes);
            return p;
        }
    }

    /** The flavour running the kernels. */
    public Flavour flavour() {
        return flavour;
    }

    /** The largest heads accepted. */
    public HeadShape maxShape() {
        return maxShape;
    }

    @Override
    public PostProcessConfig config() {
        return config;
    }

    /**
     * @throws InvalidHeadOutputException NaN / +Inf class logit or non-finite reg/ctr of a candidate (names image and tensor)
     * @throws ModelContractException     heads larger than the max shape, other strides, metas of the wrong size
     */
    @Override
    public List<List<Detection>> process(HeadTensors heads, List<ImageMeta> metas) {
        DetectionArrays out = new DetectionArrays(heads.batch(), k);
        processInto(heads, metas, out);
        List<List<Detection>> result = new ArrayList<>(heads.batch());
        for (int n = 0; n < heads.batch(); n++) {
            List<Detection> image = new ArrayList<>(out.count(n));
            for (int i = 0; i < out.count(n); i++) {
                int c = out.classId(n, i);
                image.add(new Detection(out.x1(n, i), out.y1(n, i), out.x2(n, i), out.y2(n, i), out.score(n, i), c,
                        classNames.isEmpty() ? "class_" + c : classNames.get(c)));
            }
            result.add(image);
        }
        return result;
    }

    /** Like {@link #process}, writing into caller-owned arrays (capacity: batch images, maxDetections rows). */
    public synchronized void processInto(HeadTensors heads, List<ImageMeta> metas, DetectionArrays out) {
        ensureOpen();
        int b = heads.batch();
        if (metas == null || metas.size() != b) {
            throw new ModelContractException("expected " + b + " image metas for a batch of " + b + ", got "
                    + (metas == null ? "null" : metas.size()));
        }
        if (b > maxShape.batch() || heads.numClasses() != maxShape.numClasses() || heads.numLevels() != levels) {
            throw new ModelContractException("heads [batch " + b + ", " + heads.numClasses() + " classes, " + heads.numLevels()
                    + " levels] do not fit this native post-processor (max batch " + maxShape.batch() + ", "
                    + maxShape.numClasses() + " classes, " + levels + " levels)");
        }
        if (out.maxBatch() < b || out.maxDetections() < k) {
            throw new IllegalArgumentException("DetectionArrays " + out.maxBatch() + " x " + out.maxDetections()
                    + " too small for " + b + " x " + k);
        }
        shape.batch(b).num_classes(heads.numClasses()).num_levels(levels);
        for (int l = 0; l < levels; l++) {
            LevelShape s = heads.level(l);
            LevelShape m = maxShape.levels().get(l);
            if (s.stride() != m.stride() || s.height() > m.height() || s.width() > m.width()) {
                throw new ModelContractException("level " + l + " " + s + " does not fit this native post-processor's " + m);
            }
            shape.heights(l, s.height()).widths(l, s.width());
            upload("cls_" + l, heads.cls(l), dCls[l]);
            upload("reg_" + l, heads.reg(l), dReg[l]);
            upload("ctr_" + l, heads.ctr(l), dCtr[l]);
            clsPtrs.put(l, dCls[l]);
            regPtrs.put(l, dReg[l]);
            ctrPtrs.put(l, dCtr[l]);
        }
        int conv = config.convention().ordinal();
        for (int n = 0; n < b; n++) {
            ImageMeta m = metas.get(n);
            int st = Fcos4jC.fcos4j_image_info(conv, m.originalHeight(), m.originalWidth(), m.resizedHeight(),
                    m.resizedWidth(), hInfo.getPointer(4L * n));
            if (st != Fcos4jC.FCOS4J_OK) {
                throw error("fcos4j_image_info (image " + n + ")", st, false);
            }
        }
        check("fcos4j_copy_to_device(image_info)", Fcos4jC.fcos4j_copy_to_device(dInfo, hInfo, 16L * b, natives.stream));
        int st = Fcos4jC.fcos4j_postprocessor_run_sync(natives.handle, shape, clsPtrs, regPtrs, ctrPtrs, new FloatPointer(dInfo),
                new IntPointer(dCount), new FloatPointer(dBoxes), new FloatPointer(dScores), new IntPointer(dClasses), natives.stream);
        if (st != Fcos4jC.FCOS4J_OK) {
            throw error("fcos4j_postprocessor_run_sync", st, false);
        }
        check("fcos4j_copy_to_host(num_detections)", Fcos4jC.fcos4j_copy_to_host(hCount, dCount, 4L * b, natives.stream));
        check("fcos4j_copy_to_host(boxes)", Fcos4jC.fcos4j_copy_to_host(hBoxes, dBoxes, 16L * b * k, natives.stream));
        check("fcos4j_copy_to_host(scores)", Fcos4jC.fcos4j_copy_to_host(hScores, dScores, 4L * b * k, natives.stream));
        check("fcos4j_copy_to_host(classes)", Fcos4jC.fcos4j_copy_to_host(hClasses, dClasses, 4L * b * k, natives.stream));
        check("fcos4j_stream_synchronize", Fcos4jC.fcos4j_stream_synchronize(natives.stream));
        int outK = out.maxDetections();
        for (int n = 0; n < b; n++) {
            int count = hCount.get(n);
            if (count < 0 || count > k) {
                throw new NativeLibraryException("native post-processing returned " + count + " detections for image " + n);
            }
            hBoxes.position(4L * n * k).get(out.boxes(), 4 * n * outK, 4 * count);
            hScores.position((long) n * k).get(out.scores(), n * outK, count);
            hClasses.position((long) n * k).get(out.classes(), n * outK, count);
            out.counts()[n] = count;
        }
        hBoxes.position(0);
        hScores.position(0);
        hClasses.position(0);
        for (int n = b; n < out.maxBatch(); n++) {
            out.counts()[n] = 0;
        }
    }

    private void upload(String name, FloatBuffer src, Pointer dst) {
        FloatBuffer whole = src.duplicate();
        whole.clear();
        int n = whole.capacity();
        staging.position(0).limit(n);
        staging.asBuffer().put(whole);
        staging.limit(staging.capacity());
        check("fcos4j_copy_to_device(" + name + ")", Fcos4jC.fcos4j_copy_to_device(dst, staging, 4L * n, natives.stream));
        // the staging buffer is reused by the next tensor: the copy must be complete (pageable host memory)
        check("fcos4j_stream_synchronize", Fcos4jC.fcos4j_stream_synchronize(natives.stream));
    }

    private static void check(String what, int status) {
        if (status != Fcos4jC.FCOS4J_OK) {
            throw error(what, status, false);
        }
    }

    private static RuntimeException error(String what, int status, boolean config) {
        String msg = Fcos4jC.fcos4j_last_error().getString();
        String text = what + " failed (status " + status + "): " + msg;
        switch (status) {
            case Fcos4jC.FCOS4J_ERR_NON_FINITE_INPUT:
                return new InvalidHeadOutputException(msg);
            case Fcos4jC.FCOS4J_ERR_NO_DEVICE:
                return new NoCudaDeviceException(text);
            case Fcos4jC.FCOS4J_ERR_INVALID_ARGUMENT:
                return config ? new ConfigurationException(text) : new ModelContractException(text);
            default:
                return new NativeLibraryException(text);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new ResourceClosedException("NativePostProcessor (" + flavour.id() + ") is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (leakRegistration != null) {
            leakRegistration.closed();
        }
        release();
    }

    /**
     * The native resources the C API hands out, apart from the object: what the leak tracker frees when a
     * post-processor is dropped unclosed (host buffers are JavaCPP's, freed by its own deallocator).
     */
    private static final class NativeHandles {
        Pointer handle;
        Pointer stream;
        final List<Pointer> deviceBuffers = new ArrayList<>();
        final List<Long> deviceSizes = new ArrayList<>();

        void free() {
            if (stream != null) {
                Fcos4jC.fcos4j_stream_synchronize(stream);
            }
            for (int i = 0; i < deviceBuffers.size(); i++) {
                Fcos4jC.fcos4j_device_free(deviceBuffers.get(i));
                DEVICE_BYTES.addAndGet(-deviceSizes.get(i));
            }
            deviceBuffers.clear();
            deviceSizes.clear();
            if (handle != null) {
                Fcos4jC.fcos4j_postprocessor_destroy(handle);
                handle = null;
                OPEN_HANDLES.decrementAndGet();
            }
            if (stream != null) {
                Fcos4jC.fcos4j_stream_destroy(stream);
                stream = null;
            }
        }
    }

    private void release() {
        natives.free();
        for (Pointer p : new Pointer[] {staging, hInfo, hCount, hBoxes, hScores, hClasses, clsPtrs, regPtrs, ctrPtrs, shape}) {
            if (p != null) {
                p.close();
            }
        }
    }
}
