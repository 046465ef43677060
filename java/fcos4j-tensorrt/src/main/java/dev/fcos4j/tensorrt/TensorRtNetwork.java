package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.NativeLibraryException;
import dev.fcos4j.ResourceClosedException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.contract.ModelContract;
import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.contract.Network;
import dev.fcos4j.contract.NetworkOutput;
import dev.fcos4j.preprocess.ImageBatch;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.tensorrt.global.nvinfer.ExecutionContextAllocationStrategy;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaHostAlloc;
import static org.bytedeco.cuda.global.cudart.cudaHostAllocDefault;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
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
    /** Device slices start on 256-byte boundaries (what TensorRT asks of tensor addresses). */
    private static final long ALIGN = 256;
    /** Buffers grow in steps of this, so that slightly different sizes do not reallocate. */
    private static final long GRANULE = 1 << 20;

    private final TensorRtEngine engine;
    private final TensorRtOptions options;
    private final ModelMetadata metadata;
    private final int levels;
    private final List<String> outputNames;
    private final List<String> extraOutputs;
    private final Semaphore permits;
    private final ConcurrentLinkedQueue<Slot> idle = new ConcurrentLinkedQueue<>();
    private final Set<Slot> slots = new HashSet<>();
    /** Optimization profiles not held by a slot (guarded by {@code slots}); one profile serves one context. */
    private final java.util.ArrayDeque<Integer> freeProfiles = new java.util.ArrayDeque<>();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile boolean closed;

    private TensorRtNetwork(TensorRtEngine engine, TensorRtOptions options) {
        this.engine = engine;
        this.options = options;
        this.metadata = engine.metadata;
        this.levels = metadata.strides().size();
        this.outputNames = ModelContract.outputNames(levels);
        List<String> extra = new ArrayList<>();
        for (String name : engine.resident.outputs().keySet()) {
            if (!outputNames.contains(name)) {
                extra.add(name);
            }
        }
        this.extraOutputs = List.copyOf(extra);
        int contexts = Math.min(options.contexts(), engine.resident.profiles());
        for (int k = 0; k < contexts; k++) {
            freeProfiles.add(k);
        }
        this.permits = new Semaphore(contexts, true);
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
        lock.readLock().lock();
        try {
            if (closed) {
                throw new ResourceClosedException("TensorRT network for " + engine.source + " is closed");
            }
            checkProfile(batch);
            permits.acquireUninterruptibly();
            Slot slot = null;
            boolean handedOut = false;
            try {
                Natives.useDevice(options.device());
                slot = idle.poll();
                if (slot == null) {
                    int profile;
                    synchronized (slots) {
                        profile = freeProfiles.remove(); // a permit guarantees one
                    }
                    try {
                        slot = new Slot(profile);
                    } catch (RuntimeException e) {
                        synchronized (slots) {
                            freeProfiles.add(profile);
                        }
                        throw e;
                    }
                    synchronized (slots) {
                        slots.add(slot);
                    }
                }
                NetworkOutput out = slot.run(batch);
                handedOut = true;
                return out;
            } finally {
                if (!handedOut) {
                    // A failed run may leave the stream or context in an error state: do not reuse them.
                    if (slot != null) {
                        discard(slot);
                    }
                    permits.release();
                }
            }
        } finally {
            lock.readLock().unlock();
        }
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

    private void giveBack(Slot slot) {
        if (closed) {
            discard(slot);
        } else {
            idle.offer(slot);
        }
        permits.release();
    }

    private void discard(Slot slot) {
        synchronized (slots) {
            if (!slots.remove(slot)) {
                return;
            }
        }
        try {
            slot.free();
        } finally {
            synchronized (slots) {
                freeProfiles.add(slot.profile);
            }
        }
    }

    /** Waits for runs in flight, frees idle slots (outstanding outputs free theirs on close); idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (Slot s; (s = idle.poll()) != null; ) {
                discard(s);
            }
            OPEN_NETWORKS.decrementAndGet();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
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
                + (closed ? ", closed" : "") + "]";
    }

    private static long align(long v) {
        return (v + ALIGN - 1) / ALIGN * ALIGN;
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
        private final int profile;
        private final IExecutionContext context;
        private final CUstream_st stream;
        private final Pointer contextMemory;
        private final long contextBytes;
        private Pointer deviceIn;
        private long deviceInBytes;
        private Pointer deviceOut;
        private long deviceOutBytes;
        private Pointer hostIn;
        private long hostInBytes;
        private Pointer hostOut;
        private long hostOutBytes;
        private boolean freed;

        Slot(int profile) {
            this.profile = profile;
            TensorRtLogger log = Natives.logger();
            long mark = log.mark();
            CUstream_st s = new CUstream_st();
            Natives.check(cudaStreamCreateWithFlags(s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
            stream = s;
            IExecutionContext c = null;
            Pointer mem = null;
            long bytes = engine.resident.contextMemory();
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
                if (bytes > 0) {
                    mem = deviceAlloc(bytes, "the execution context of " + engine.plan.getFileName());
                    c.setDeviceMemoryV2(mem, bytes);
                }
                if (!c.setOptimizationProfileAsync(profile, stream)) {
                    throw new NativeLibraryException("TensorRT could not select optimization profile " + profile
                            + " of " + engine.plan + log.said(mark));
                }
            } catch (RuntimeException e) {
                if (mem != null) {
                    cudaFree(mem);
                    DEVICE_BYTES.addAndGet(-bytes);
                }
                if (c != null) {
                    c.deallocate();
                }
                cudaStreamDestroy(stream);
                throw e;
            }
            context = c;
            contextMemory = mem;
            contextBytes = bytes;
            OPEN_CONTEXTS.incrementAndGet();
        }

        NetworkOutput run(ImageBatch batch) {
            TensorRtLogger log = Natives.logger();
            long mark = log.mark();
            int n = batch.size();
            int h = batch.height();
            int w = batch.width();
            int c = metadata.numClasses();
            String what = engine.source + " on a " + n + "x3x" + h + "x" + w + " batch";
            List<LevelShape> shapes = ModelContract.levelShapes(h, w, metadata.strides());

            Dims64 inDims = TensorRtEngine.dims4(n, 3, h, w);
            if (!context.setInputShape(ModelContract.INPUT, inDims)) {
                throw new NativeLibraryException("TensorRT refused input shape [" + n + ",3," + h + "," + w
                        + "] for '" + ModelContract.INPUT + "' of " + what + log.said(mark));
            }
            // Layout: the contract's outputs (copied back), then any other outputs (device only).
            int count = outputNames.size() + extraOutputs.size();
            long[] offsets = new long[count];
            long[] bytes = new long[count];
            long total = 0;
            long hostTotal = 0;
            for (int i = 0; i < count; i++) {
                String name = i < outputNames.size() ? outputNames.get(i) : extraOutputs.get(i - outputNames.size());
                long[] got = dims(context.getTensorShape(name));
                if (i < outputNames.size()) {
                    int l = i / 3;
                    LevelShape s = shapes.get(l);
                    long ch = i % 3 == 0 ? c : i % 3 == 1 ? 4 : 1;
                    long[] expected = {n, ch, s.height(), s.width()};
                    if (!java.util.Arrays.equals(got, expected)) {
                        throw new ModelContractException(what + ": output '" + name + "' has shape "
                                + java.util.Arrays.toString(got) + ", the contract gives "
                                + java.util.Arrays.toString(expected) + " (level " + l + ", stride " + s.stride() + ")");
                    }
                }
                long elements = 1;
                for (long d : got) {
                    if (d < 0) {
                        throw new ModelContractException(what + ": output '" + name + "' has a data-dependent shape "
                                + java.util.Arrays.toString(got) + ", which the contract does not allow");
                    }
                    elements *= d;
                }
                offsets[i] = total;
                bytes[i] = elements * engine.resident.elementBytes().getOrDefault(name, 4);
                total += align(bytes[i]);
                if (i < outputNames.size()) {
                    hostTotal = total;
                }
            }
            long inBytes = 4L * n * 3 * h * w;
            ensure(inBytes, total, hostTotal);

            // Input: batch -> pinned staging -> device.
            FloatBuffer staging = Address.view(hostIn, 0, inBytes).asFloatBuffer();
            FloatBuffer data = batch.data().duplicate();
            data.clear();
            if (data.remaining() != (int) (inBytes / 4)) {
                throw new IllegalArgumentException("batch data has " + data.remaining() + " values, expected "
                        + inBytes / 4 + " for " + n + "x3x" + h + "x" + w);
            }
            staging.put(data);
            Natives.check(cudaMemcpyAsync(deviceIn, hostIn, inBytes, cudaMemcpyHostToDevice, stream),
                    "cudaMemcpyAsync of input '" + ModelContract.INPUT + "' to the device for " + what);
            if (!context.setTensorAddress(ModelContract.INPUT, deviceIn)) {
                throw new NativeLibraryException("TensorRT refused the address of '" + ModelContract.INPUT + "' for "
                        + what + log.said(mark));
            }
            for (int i = 0; i < count; i++) {
                String name = i < outputNames.size() ? outputNames.get(i) : extraOutputs.get(i - outputNames.size());
                if (!context.setTensorAddress(name, Address.at(deviceOut, offsets[i]))) {
                    throw new NativeLibraryException("TensorRT refused the address of output '" + name + "' for "
                            + what + log.said(mark));
                }
            }
            if (!context.enqueueV3(stream)) {
                throw new NativeLibraryException("TensorRT enqueueV3 failed for " + what + log.said(mark));
            }
            for (int i = 0; i < outputNames.size(); i++) {
                Natives.check(cudaMemcpyAsync(Address.at(hostOut, offsets[i]), Address.at(deviceOut, offsets[i]),
                        bytes[i], cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync of output '" + outputNames.get(i)
                        + "' to the host for " + what);
            }
            int status = cudaStreamSynchronize(stream);
            if (status != 0) {
                throw new NativeLibraryException("CUDA: running " + what + " failed: " + Natives.error(status)
                        + log.said(mark));
            }
            List<FloatBuffer> cls = new ArrayList<>(levels);
            List<FloatBuffer> reg = new ArrayList<>(levels);
            List<FloatBuffer> ctr = new ArrayList<>(levels);
            for (int l = 0; l < levels; l++) {
                cls.add(view(3 * l, offsets, bytes));
                reg.add(view(3 * l + 1, offsets, bytes));
                ctr.add(view(3 * l + 2, offsets, bytes));
            }
            HeadTensors heads = HeadTensors.of(n, c, shapes, cls, reg, ctr);
            return new Output(heads, this);
        }

        private FloatBuffer view(int i, long[] offsets, long[] bytes) {
            ByteBuffer b = Address.view(hostOut, offsets[i], bytes[i]);
            return b.asFloatBuffer();
        }

        /** Grows the buffers to at least these sizes (rounded up to a granule); keeps them when large enough. */
        private void ensure(long inBytes, long outBytes, long hostOutNeeded) {
            if (deviceInBytes < inBytes) {
                long size = round(inBytes);
                freeDevice(deviceIn, deviceInBytes);
                deviceIn = null;
                deviceInBytes = 0;
                deviceIn = deviceAlloc(size, "input '" + ModelContract.INPUT + "'");
                deviceInBytes = size;
            }
            if (hostInBytes < inBytes) {
                long size = round(inBytes);
                freeHost(hostIn, hostInBytes);
                hostIn = null;
                hostInBytes = 0;
                hostIn = hostAlloc(size, "input '" + ModelContract.INPUT + "'");
                hostInBytes = size;
            }
            if (deviceOutBytes < outBytes) {
                long size = round(outBytes);
                freeDevice(deviceOut, deviceOutBytes);
                deviceOut = null;
                deviceOutBytes = 0;
                deviceOut = deviceAlloc(size, "the head outputs");
                deviceOutBytes = size;
            }
            if (hostOutBytes < hostOutNeeded) {
                long size = round(hostOutNeeded);
                freeHost(hostOut, hostOutBytes);
                hostOut = null;
                hostOutBytes = 0;
                hostOut = hostAlloc(size, "the head outputs");
                hostOutBytes = size;
            }
        }

        private long round(long bytes) {
            return (bytes + GRANULE - 1) / GRANULE * GRANULE;
        }

        /** Frees everything of this slot; the context object itself only as far as the binding can. */
        void free() {
            if (freed) {
                return;
            }
            freed = true;
            // Nothing may still run on the stream when its buffers go.
            cudaStreamSynchronize(stream);
            freeDevice(deviceIn, deviceInBytes);
            freeDevice(deviceOut, deviceOutBytes);
            freeHost(hostIn, hostInBytes);
            freeHost(hostOut, hostOutBytes);
            deviceIn = deviceOut = hostIn = hostOut = null;
            context.deallocate();
            freeDevice(contextMemory, contextBytes);
            cudaStreamDestroy(stream);
            OPEN_CONTEXTS.decrementAndGet();
        }

        private void freeDevice(Pointer p, long bytes) {
            if (p != null) {
                cudaFree(p);
                DEVICE_BYTES.addAndGet(-bytes);
            }
        }

        private void freeHost(Pointer p, long bytes) {
            if (p != null) {
                cudaFreeHost(p);
                PINNED_BYTES.addAndGet(-bytes);
            }
        }
    }

    private static long[] dims(Dims64 d) {
        long[] out = new long[Math.max(0, d.nbDims())];
        for (int i = 0; i < out.length; i++) {
            out[i] = d.d(i);
        }
        return out;
    }

    /** The head outputs of one run: views of a slot's pinned memory, valid until closed. */
    private final class Output implements NetworkOutput {
        private final HeadTensors heads;
        private final Slot slot;
        private final AtomicBoolean closedFlag = new AtomicBoolean();

        Output(HeadTensors heads, Slot slot) {
            this.heads = heads;
            this.slot = slot;
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
            giveBack(slot);
        }
    }
}
