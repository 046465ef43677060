package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.NativeLibraryException;
import dev.fcos4j.ResourceClosedException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.ModelContract;
import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.contract.Network;
import dev.fcos4j.contract.NetworkOutput;
import dev.fcos4j.preprocess.ImageBatch;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.tensorrt.global.nvinfer.ExecutionContextAllocationStrategy;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaHostAlloc;
import static org.bytedeco.cuda.global.cudart.cudaHostAllocDefault;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamNonBlocking;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

/**
 * A contract model run by TensorRT on an NVIDIA GPU.
 *
 * <p>Each {@link #run} borrows a <em>slot</em> from a pool (at most {@code contexts} of them): an execution context
 * on its own optimization profile (its device memory allocated here), a CUDA stream, device buffers for the input and the head outputs, and pinned
 * host buffers (cudaHostAlloc) for the input staging and the outputs. The run copies the batch into pinned memory,
 * enqueues host-to-device copy, {@code enqueueV3} and device-to-host copies of the 3L head outputs on the stream, and
 * synchronizes the stream once. The returned {@link NetworkOutput}'s tensors are views of the slot's pinned memory;
 * closing it returns the slot. Buffers grow to the largest batch seen and are then reused.
 *
 * <p>Thread-safe: up to {@code contexts} runs proceed at once, more wait for a slot (so a thread must close its
 * outputs before it runs again once all slots are out). {@link #close()} waits for runs in flight, frees idle slots,
 * and frees each outstanding slot when its output is closed. Idempotent; later runs throw
 * {@link ResourceClosedException}.
 */
public final class TensorRtNetwork implements Network {
    private static final AtomicInteger OPEN_NETWORKS = new AtomicInteger();
    private static final AtomicInteger OPEN_CONTEXTS = new AtomicInteger();
    private static final AtomicInteger OPEN_OUTPUTS = new AtomicInteger();
    private static final AtomicLong PINNED_BYTES = new AtomicLong();
    private static final AtomicLong DEVICE_BYTES = new AtomicLong();
    /** Buffers grow in steps of this, so that slightly different sizes do not reallocate. */
    private static final long GRANULE = 1 << 20;

    private final TensorRtEngine engine;
    private final TensorRtOptions options;
    private final ModelMetadata metadata;
    private final int levels;
    /** The engine's outputs outside the contract: TensorRT needs an address for each, nothing reads them. */
    private final List<String> extraOutputs;
    /** Slot k runs on optimization profile k: TensorRT lets one profile serve one context at a time. */
    private final SlotPool<Slot> pool;
    private final AtomicBoolean closed = new AtomicBoolean();

    private TensorRtNetwork(TensorRtEngine engine, TensorRtOptions options) {
        this.engine = engine;
        this.options = options;
        this.metadata = engine.metadata;
        this.levels = metadata.strides().size();
        List<String> outputNames = ModelContract.outputNames(levels);
        List<String> extra = new ArrayList<>();
        for (String name : engine.resident.outputs().keySet()) {
            if (!outputNames.contains(name)) {
                extra.add(name);
            }
        }
        this.extraOutputs = List.copyOf(extra);
        int contexts = Math.min(options.contexts(), engine.resident.profiles());
        this.pool = new SlotPool<>(contexts, Slot::new, Slot::free,
                () -> new ResourceClosedException("TensorRT network for " + engine.source + " is closed"));
    }

    /**
     * Opens a model on the GPU: an ONNX contract model (its engine taken from the cache or built into it) or a
     * {@code .plan} built by fcos4j (with its {@code .plan.properties} beside it).
     *
     * @throws dev.fcos4j.BackendUnavailableException no CUDA driver, device or TensorRT library (names which)
     * @throws ConfigurationException                 a bad option, a missing file, a device index out of range
     * @throws ModelContractException                 the model or engine breaks the contract (names file and tensors)
     * @throws NativeLibraryException                 TensorRT or CUDA failed (names the call and CUDA's error)
     */
    public static TensorRtNetwork open(Path model, TensorRtOptions options) {
        if (!java.nio.file.Files.isRegularFile(model)) {
            throw new ConfigurationException("model file " + model + " does not exist or is not a regular file");
        }
        Natives.load();
        Natives.useDevice(options.device());
        TensorRtEngine engine = TensorRtEngine.open(model, options);
        OPEN_NETWORKS.incrementAndGet();
        return new TensorRtNetwork(engine, options);
    }

    @Override
    public ModelMetadata metadata() {
        return metadata;
    }

    /** The model file given (ONNX or plan). */
    public Path modelPath() {
        return engine.source;
    }

    /** The plan file the engine was loaded from (in the cache for an ONNX model). */
    public Path planPath() {
        return engine.plan;
    }

    /** Whether opening built the engine (false: it came from the cache or was given). */
    public boolean builtEngine() {
        return engine.built;
    }

    /** The engine's precision. */
    public Precision precision() {
        return engine.precision;
    }

    /** The largest batch of the engine's profile. */
    @Override
    public int maxBatch() {
        return engine.resident.profile().maxBatch();
    }

    /**
     * Runs the engine on a batch.
     *
     * @throws ResourceClosedException after close
     * @throws ConfigurationException  the batch is outside the engine's profile (names the bound and the option)
     * @throws ModelContractException  the engine's outputs do not have the contract's shapes for this input
     * @throws NativeLibraryException  TensorRT or CUDA failed (names the call, the tensor and CUDA's error)
     */
    @Override
    public NetworkOutput run(ImageBatch batch) {
        if (closed.get()) {
            throw new ResourceClosedException("TensorRT network for " + engine.source + " is closed");
        }
        checkProfile(batch);
        // CUDA's current device is per thread; the slot may be created on this one.
        Natives.useDevice(options.device());
        return pool.run(lease -> new Output(lease.slot().run(batch), lease));
    }

    private void checkProfile(ImageBatch batch) {
        TensorRtEngine.Profile p = engine.resident.profile();
        int n = batch.size();
        if (n == 0) {
            throw new IllegalArgumentException("empty batch");
        }
        List<String> problems = new ArrayList<>();
        if (n < p.minBatch() || n > p.maxBatch()) {
            problems.add("batch " + n + " is outside " + p.minBatch() + ".." + p.maxBatch() + " ("
                    + TensorRtOptions.MAX_BATCH + ")");
        }
        if (batch.height() < p.minHeight() || batch.height() > p.maxHeight()) {
            problems.add("height " + batch.height() + " is outside " + p.minHeight() + ".." + p.maxHeight() + " ("
                    + TensorRtOptions.MAX_HEIGHT + ")");
        }
        if (batch.width() < p.minWidth() || batch.width() > p.maxWidth()) {
            problems.add("width " + batch.width() + " is outside " + p.minWidth() + ".." + p.maxWidth() + " ("
                    + TensorRtOptions.MAX_WIDTH + ")");
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException("a " + n + "x3x" + batch.height() + "x" + batch.width()
                    + " batch does not fit the TensorRT engine " + engine.plan.getFileName() + " of " + engine.source
                    + ": " + String.join(", ", problems) + "; open the model with larger TensorRT options");
        }
    }

    /** Waits for runs in flight, frees idle slots (outstanding outputs free theirs on close); idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            pool.close();
        } finally {
            OPEN_NETWORKS.decrementAndGet();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed.get();
    }

    /** Diagnostics for leak checks: networks opened and not closed, JVM-wide. */
    public static int openNetworks() {
        return OPEN_NETWORKS.get();
    }

    /** Diagnostics for leak checks: execution contexts (with their device memory and stream) not yet freed. */
    public static int openContexts() {
        return OPEN_CONTEXTS.get();
    }

    /** Diagnostics for leak checks: outputs returned by {@link #run} and not closed. */
    public static int openOutputs() {
        return OPEN_OUTPUTS.get();
    }

    /** Diagnostics for leak checks: pinned host bytes allocated by open slots, JVM-wide. */
    public static long pinnedBytes() {
        return PINNED_BYTES.get();
    }

    /** Diagnostics for leak checks: device bytes allocated by open slots (buffers and context memory). */
    public static long deviceBytes() {
        return DEVICE_BYTES.get();
    }

    /** Engines deserialized in this process; they stay resident (docs/TENSORRT-JAVA.md, "Memory"). */
    public static int residentEngines() {
        return TensorRtEngine.residentEngines();
    }

    @Override
    public String toString() {
        return "TensorRtNetwork[" + engine.source + ", " + engine.plan.getFileName() + ", " + engine.precision.id()
                + (closed.get() ? ", closed" : "") + "]";
    }

    /**
     * A device or pinned host allocation that only grows: to the bytes asked, rounded up to {@link #GRANULE} so that
     * slightly different batches do not reallocate. A failed allocation leaves it empty, never half-updated.
     */
    private static final class Buffer {
        private final boolean pinned;
        private final String what;
        private Pointer pointer;
        private long bytes;

        Buffer(boolean pinned, String what) {
            this.pinned = pinned;
            this.what = what;
        }

        /** The buffer, grown first if it holds fewer than {@code needed} bytes. */
        Pointer atLeast(long needed) {
            if (bytes < needed) {
                free();
                long size = RunLayout.roundUp(needed, GRANULE);
                pointer = pinned ? hostAlloc(size, what) : deviceAlloc(size, what);
                bytes = size;
            }
            return pointer;
        }

        void free() {
            if (pointer != null) {
                if (pinned) {
                    cudaFreeHost(pointer);
                    PINNED_BYTES.addAndGet(-bytes);
                } else {
                    cudaFree(pointer);
                    DEVICE_BYTES.addAndGet(-bytes);
                }
                pointer = null;
                bytes = 0;
            }
        }
    }

    private static Pointer deviceAlloc(long bytes, String what) {
        PointerPointer<Pointer> out = new PointerPointer<>(1);
        try {
            Natives.check(cudaMalloc(out, bytes), "cudaMalloc(" + bytes + " bytes for " + what + ")");
            DEVICE_BYTES.addAndGet(bytes);
            return new Address(out.get(0).address());
        } finally {
            out.deallocate();
        }
    }

    private static Pointer hostAlloc(long bytes, String what) {
        PointerPointer<Pointer> out = new PointerPointer<>(1);
        try {
            Natives.check(cudaHostAlloc(out, bytes, cudaHostAllocDefault),
                    "cudaHostAlloc(" + bytes + " pinned bytes for " + what + ")");
            PINNED_BYTES.addAndGet(bytes);
            return new Address(out.get(0).address());
        } finally {
            out.deallocate();
        }
    }

    /** An execution context with its stream and buffers; used by one run at a time. */
    private final class Slot {
        private final IExecutionContext context;
        private final CUstream_st stream;
        private final Buffer contextMemory = new Buffer(false, "the execution context of " + engine.plan.getFileName());
        private final Buffer deviceIn = new Buffer(false, "input '" + ModelContract.INPUT + "'");
        private final Buffer hostIn = new Buffer(true, "input '" + ModelContract.INPUT + "'");
        private final Buffer deviceOut = new Buffer(false, "the head outputs");
        private final Buffer hostOut = new Buffer(true, "the head outputs");
        private boolean freed;

        Slot(int profile) {
            TensorRtLogger log = Natives.logger();
            long mark = log.mark();
            CUstream_st s = new CUstream_st();
            Natives.check(cudaStreamCreateWithFlags(s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
            stream = s;
            IExecutionContext c = null;
            try {
                // The context's scratch memory is ours to allocate, so that it is freed on close even though the
                // binding cannot delete the context object itself.
                // One context creation at a time per engine: TensorRT does not promise more.
                synchronized (engine.resident) {
                    c = engine.resident.engine().createExecutionContext(
                            ExecutionContextAllocationStrategy.kUSER_MANAGED);
                }
                if (c == null || c.isNull()) {
                    throw new NativeLibraryException("TensorRT could not create an execution context for "
                            + engine.plan + log.said(mark));
                }
                long bytes = engine.resident.contextMemory();
                if (bytes > 0) {
                    c.setDeviceMemoryV2(contextMemory.atLeast(bytes), bytes);
                }
                if (!c.setOptimizationProfileAsync(profile, stream)) {
                    throw new NativeLibraryException("TensorRT could not select optimization profile " + profile
                            + " of " + engine.plan + log.said(mark));
                }
            } catch (RuntimeException e) {
                contextMemory.free();
                if (c != null) {
                    c.deallocate();
                }
                cudaStreamDestroy(stream);
                throw e;
            }
            context = c;
            OPEN_CONTEXTS.incrementAndGet();
        }

        /** Runs a batch; the heads are views of this slot's pinned memory. */
        HeadTensors run(ImageBatch batch) {
            TensorRtLogger log = Natives.logger();
            long mark = log.mark();
            int n = batch.size();
            int h = batch.height();
            int w = batch.width();
            String what = engine.source + " on a " + n + "x3x" + h + "x" + w + " batch";

            // The input shape first: the output shapes (and so the buffers) follow from it.
            if (!context.setInputShape(ModelContract.INPUT, TensorRtEngine.dims(n, 3, h, w))) {
                throw new NativeLibraryException("TensorRT refused input shape [" + n + ",3," + h + "," + w
                        + "] for '" + ModelContract.INPUT + "' of " + what + log.said(mark));
            }
            RunLayout layout = RunLayout.of(what, n, h, w, metadata.numClasses(), metadata.strides(), extraOutputs,
                    name -> TensorRtEngine.shape(context.getTensorShape(name)),
                    name -> engine.resident.elementBits().getOrDefault(name, 64));
            long inBytes = layout.inputBytes();
            Pointer dIn = deviceIn.atLeast(inBytes);
            Pointer hIn = hostIn.atLeast(inBytes);
            Pointer dOut = deviceOut.atLeast(layout.deviceBytes());
            Pointer hOut = hostOut.atLeast(layout.hostBytes());

            // Input: batch -> pinned staging -> device.
            FloatBuffer data = batch.data().duplicate();
            data.clear();
            Address.view(hIn, 0, inBytes).asFloatBuffer().put(data);
            Natives.check(cudaMemcpyAsync(dIn, hIn, inBytes, cudaMemcpyHostToDevice, stream),
                    "cudaMemcpyAsync of input '" + ModelContract.INPUT + "' to the device for " + what);
            if (!context.setTensorAddress(ModelContract.INPUT, dIn)) {
                throw new NativeLibraryException("TensorRT refused the address of '" + ModelContract.INPUT + "' for "
                        + what + log.said(mark));
            }
            List<String> names = layout.names();
            for (int i = 0; i < names.size(); i++) {
                if (!context.setTensorAddress(names.get(i), Address.at(dOut, layout.offset(i)))) {
                    throw new NativeLibraryException("TensorRT refused the address of output '" + names.get(i)
                            + "' for " + what + log.said(mark));
                }
            }
            if (!context.enqueueV3(stream)) {
                throw new NativeLibraryException("TensorRT enqueueV3 failed for " + what + log.said(mark));
            }
            for (int i = 0; i < layout.hostCount(); i++) {
                Natives.check(cudaMemcpyAsync(Address.at(hOut, layout.offset(i)), Address.at(dOut, layout.offset(i)),
                        layout.bytes(i), cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync of output '"
                        + names.get(i) + "' to the host for " + what);
            }
            // The one wait of a run: after it the copies have landed in pinned memory.
            int status = cudaStreamSynchronize(stream);
            if (status != 0) {
                throw new NativeLibraryException("CUDA: running " + what + " failed: " + Natives.error(status)
                        + log.said(mark));
            }
            List<FloatBuffer> cls = new ArrayList<>(levels);
            List<FloatBuffer> reg = new ArrayList<>(levels);
            List<FloatBuffer> ctr = new ArrayList<>(levels);
            for (int l = 0; l < levels; l++) {
                cls.add(view(hOut, layout, 3 * l));
                reg.add(view(hOut, layout, 3 * l + 1));
                ctr.add(view(hOut, layout, 3 * l + 2));
            }
            return HeadTensors.of(n, metadata.numClasses(), ModelContract.levelShapes(h, w, metadata.strides()), cls,
                    reg, ctr);
        }

        private FloatBuffer view(Pointer host, RunLayout layout, int i) {
            return Address.view(host, layout.offset(i), layout.bytes(i)).asFloatBuffer();
        }

        /** Frees everything of this slot; the context object itself only as far as the binding can. */
        void free() {
            if (freed) {
                return;
            }
            freed = true;
            // Possibly on another thread than the runs (an output closed there): make the slot's device current.
            cudaSetDevice(options.device());
            // Nothing may still run on the stream when its buffers go.
            cudaStreamSynchronize(stream);
            deviceIn.free();
            deviceOut.free();
            hostIn.free();
            hostOut.free();
            context.deallocate();
            contextMemory.free();
            cudaStreamDestroy(stream);
            OPEN_CONTEXTS.decrementAndGet();
        }
    }

    /** The head outputs of one run: views of a slot's pinned memory, valid until closed. */
    private final class Output implements NetworkOutput {
        private final HeadTensors heads;
        private final SlotPool.Lease<Slot> lease;
        private final AtomicBoolean closedFlag = new AtomicBoolean();

        Output(HeadTensors heads, SlotPool.Lease<Slot> lease) {
            this.heads = heads;
            this.lease = lease;
            OPEN_OUTPUTS.incrementAndGet();
        }

        @Override
        public HeadTensors heads() {
            if (closedFlag.get()) {
                throw new ResourceClosedException("head outputs of " + engine.source + " (TensorRT) are closed");
            }
            return heads;
        }

        @Override
        public void close() {
            if (!closedFlag.compareAndSet(false, true)) {
                return;
            }
            OPEN_OUTPUTS.decrementAndGet();
            pool.giveBack(lease);
        }
    }
}
