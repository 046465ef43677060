package dev.fcos4j.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
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
import dev.fcos4j.contract.TensorSpec;
import dev.fcos4j.memory.DirectBufferPool;
import dev.fcos4j.memory.LeakTracker;
import dev.fcos4j.preprocess.ImageBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A contract model run by ONNX Runtime on the CPU.
 *
 * <p>Loading checks the model against the contract ({@link ModelContract}) and reads its metadata. Each
 * {@link #run} binds the 3L outputs to pre-allocated direct buffers (ONNX Runtime writes into them, no copy on
 * the way out; a direct native-order input buffer is also used without a copy), and the returned
 * {@link NetworkOutput} hands the buffers back to a small pool on close. Thread-safe: runs may overlap; close
 * waits for runs in flight.
 */
public final class OnnxRuntimeNetwork implements Network {
    private static final AtomicInteger OPEN_SESSIONS = new AtomicInteger();
    private static final AtomicInteger OPEN_OUTPUTS = new AtomicInteger();
    private static final AtomicInteger OPEN_TENSORS = new AtomicInteger();
    private static final int POOL_LIMIT = 4;
    private static final long POOL_BYTES = 1L << 30;
    // Each output slice starts on a 64-byte boundary (cache line; what ORT's own allocator gives).
    private static final int ALIGN = DirectBufferPool.ALIGNMENT;

    private final Path modelPath;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final ModelMetadata metadata;
    private final List<String> outputNames;
    private final int levels;
    private final DirectBufferPool pool = new DirectBufferPool("head outputs", POOL_LIMIT, POOL_BYTES);
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final LeakTracker.Registration leakRegistration;
    private volatile boolean closed;

    /**
     * Loading options.
     *
     * @param intraOpThreads threads ONNX Runtime uses inside one run (0 = number of available processors)
     */
    public record Options(int intraOpThreads) {
        public Options {
            if (intraOpThreads < 0) {
                throw new ConfigurationException("intra-op threads must be 0 (all cores) or positive, got "
                        + intraOpThreads);
            }
        }

        /** All available processors. */
        public static Options defaults() {
            return new Options(0);
        }
    }

    private OnnxRuntimeNetwork(Path modelPath, OrtEnvironment env, OrtSession session, ModelMetadata metadata) {
        this.modelPath = modelPath;
        this.env = env;
        this.session = session;
        this.metadata = metadata;
        this.levels = metadata.strides().size();
        this.outputNames = ModelContract.outputNames(levels);
        // A network dropped without close(): the session is freed, with a warning naming the model.
        this.leakRegistration = LeakTracker.register(this, "ONNX Runtime session for " + modelPath,
                () -> closeQuietly(session));
    }

    /** Loads with default options. */
    public static OnnxRuntimeNetwork load(Path model) {
        return load(model, Options.defaults());
    }

    /**
     * Loads and validates a contract model.
     *
     * @throws ConfigurationException  the file does not exist or cannot be read (names the file)
     * @throws ModelContractException  the file is not a loadable ONNX model, or breaks the contract (names the file
     *                                 and every problem)
     * @throws NativeLibraryException  ONNX Runtime cannot be loaded or failed otherwise
     */
    public static OnnxRuntimeNetwork load(Path model, Options options) {
        if (!Files.isRegularFile(model)) {
            throw new ConfigurationException("model file " + model + " does not exist or is not a regular file");
        }
        if (!Files.isReadable(model)) {
            throw new ConfigurationException("model file " + model + " is not readable");
        }
        try {
            if (Files.size(model) == 0) {
                throw new ModelContractException("model file " + model + " is empty, not an ONNX model");
            }
        } catch (IOException e) {
            throw new ConfigurationException("model file " + model + " cannot be read: " + e.getMessage(), e);
        }
        OrtEnvironment env = environment();
        OrtSession session;
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            int threads = options.intraOpThreads() == 0 ? Runtime.getRuntime().availableProcessors()
                    : options.intraOpThreads();
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // Run errors come back as exceptions with ORT's text; its own log would only repeat them on stderr.
            so.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
            session = env.createSession(model.toString(), so);
        } catch (OrtException e) {
            throw loadError(model, e);
        }
        OPEN_SESSIONS.incrementAndGet();
        try {
            ModelMetadata meta = ModelMetadata.fromProperties(session.getMetadata().getCustomMetadata());
            meta = ModelContract.validate(model.toString(), specs(session.getInputInfo()),
                    specs(session.getOutputInfo()), meta);
            return new OnnxRuntimeNetwork(model, env, session, meta);
        } catch (OrtException e) {
            closeQuietly(session);
            throw new NativeLibraryException("ONNX Runtime could not describe model " + model + ": " + e.getMessage(), e);
        } catch (ModelContractException e) {
            closeQuietly(session);
            if (e.getMessage().contains(model.toString())) {
                throw e;
            }
            throw new ModelContractException("model " + model + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(session);
            throw e;
        }
    }

    private static OrtEnvironment environment() {
        try {
            return OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        } catch (LinkageError | RuntimeException e) {
            throw new NativeLibraryException("the ONNX Runtime native library (onnxruntime) could not be loaded: "
                    + e, e);
        }
    }

    /**
     * Operators that only TensorRT provides, with what they mean for the user: ONNX Runtime's own message
     * ("No Op registered for ...") would not tell that the file is fine, just meant for the GPU path.
     */
    private static final Map<String, String> TENSORRT_ONLY_OPS = Map.of(
            "FcosDetect", "the fcos4j TensorRT plugin's post-processing node (added by engines/export/embed_detect.py;"
                    + " libfcos4j_trt.so provides it): such a model runs only in TensorRT. The CPU backend needs the"
                    + " contract model it was made from (outputs cls_0.., reg_0.., ctr_0..)",
            "ModulatedDeformConv2d", "TensorRT's deformable convolution plugin (libnvinfer_plugin; mmdetection DCNv2"
                    + " models, see engines/export/DCN.md): ONNX Runtime has no such operator, so this model runs only"
                    + " in TensorRT");

    private static RuntimeException loadError(Path model, OrtException e) {
        String message = String.valueOf(e.getMessage());
        for (Map.Entry<String, String> op : TENSORRT_ONLY_OPS.entrySet()) {
            if (message.contains(op.getKey())) {
                return new ModelContractException("model file " + model + " contains the operator " + op.getKey()
                        + ", " + op.getValue() + " (ONNX Runtime: " + message + ")", e);
            }
        }
        return switch (e.getCode()) {
            case ORT_INVALID_PROTOBUF, ORT_INVALID_GRAPH, ORT_NO_MODEL, ORT_NOT_IMPLEMENTED, ORT_INVALID_ARGUMENT,
                 ORT_FAIL -> new ModelContractException("model file " + model
                    + " is not an ONNX model ONNX Runtime can load: " + e.getMessage(), e);
            case ORT_NO_SUCHFILE -> new ConfigurationException("model file " + model + " cannot be opened: "
                    + e.getMessage(), e);
            default -> new NativeLibraryException("ONNX Runtime failed to load model " + model + ": "
                    + e.getMessage(), e);
        };
    }

    private static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
        List<TensorSpec> out = new ArrayList<>(infos.size());
        for (NodeInfo n : infos.values()) {
            ValueInfo v = n.getInfo();
            if (v instanceof TensorInfo t) {
                String type = t.type.name().toLowerCase(Locale.ROOT);
                type = switch (type) {
                    case "float" -> "float32";
                    case "double" -> "float64";
                    case "bool" -> "bool";
                    default -> type;
                };
                out.add(new TensorSpec(n.getName(), type, t.getShape()));
            } else {
                out.add(new TensorSpec(n.getName(), "non-tensor " + v.getClass().getSimpleName(), new long[0]));
            }
        }
        return out;
    }

    private static void closeQuietly(OrtSession session) {
        try {
            session.close();
        } catch (OrtException ignored) {
            // Already failing with a better message.
        } finally {
            OPEN_SESSIONS.decrementAndGet();
        }
    }

    @Override
    public ModelMetadata metadata() {
        return metadata;
    }

    /** The model file. */
    public Path modelPath() {
        return modelPath;
    }

    /**
     * Runs the model on a batch.
     *
     * @throws ResourceClosedException after close
     * @throws ModelContractException  the outputs do not have the shapes the contract gives for this input size
     * @throws NativeLibraryException  ONNX Runtime failed
     */
    @Override
    public NetworkOutput run(ImageBatch batch) {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new ResourceClosedException("ONNX Runtime network for " + modelPath + " is closed");
            }
            return runLocked(batch);
        } finally {
            lock.readLock().unlock();
        }
    }

    private NetworkOutput runLocked(ImageBatch batch) {
        int n = batch.size();
        if (n == 0) {
            throw new IllegalArgumentException("empty batch");
        }
        int c = metadata.numClasses();
        List<LevelShape> shapes = ModelContract.levelShapes(batch.height(), batch.width(), metadata.strides());

        // One pooled buffer, sliced per output.
        long[][] dims = new long[3 * levels][];
        long[] offsets = new long[3 * levels];
        long total = 0;
        for (int l = 0; l < levels; l++) {
            LevelShape s = shapes.get(l);
            dims[3 * l] = new long[] {n, c, s.height(), s.width()};
            dims[3 * l + 1] = new long[] {n, 4, s.height(), s.width()};
            dims[3 * l + 2] = new long[] {n, 1, s.height(), s.width()};
        }
        for (int i = 0; i < dims.length; i++) {
            offsets[i] = total;
            long bytes = 4L * dims[i][0] * dims[i][1] * dims[i][2] * dims[i][3];
            total += (bytes + ALIGN - 1) / ALIGN * ALIGN;
        }
        if (total > Integer.MAX_VALUE - (2 << 20)) {
            throw new IllegalArgumentException("head outputs of a " + n + " x " + batch.height() + " x "
                    + batch.width() + " batch exceed 2 GiB; use smaller batches");
        }
        ByteBuffer block = pool.acquire((int) total);

        Map<String, OnnxTensor> pinned = new LinkedHashMap<>();
        FloatBuffer[] views = new FloatBuffer[dims.length];
        OnnxTensor input = null;
        OrtSession.Result result = null;
        boolean ok = false;
        try {
            for (int i = 0; i < dims.length; i++) {
                int count = (int) (dims[i][0] * dims[i][1] * dims[i][2] * dims[i][3]);
                FloatBuffer view = block.slice((int) offsets[i], count * 4).order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
                views[i] = view;
                pinned.put(outputNames.get(i), tensor(view, dims[i]));
            }
            FloatBuffer data = batch.data().duplicate();
            data.clear();
            if (data.isDirect() && data.order() != ByteOrder.nativeOrder()) {
                // ONNX Runtime reads a direct buffer's bytes as they are: other byte orders need a native copy.
                FloatBuffer nativeCopy = ByteBuffer.allocateDirect(data.capacity() * 4).order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
                nativeCopy.put(data).clear();
                data = nativeCopy;
            }
            input = tensor(data, new long[] {n, 3, batch.height(), batch.width()});
            result = session.run(Map.of(ModelContract.INPUT, input), pinned);
            List<FloatBuffer> cls = new ArrayList<>(levels);
            List<FloatBuffer> reg = new ArrayList<>(levels);
            List<FloatBuffer> ctr = new ArrayList<>(levels);
            for (int l = 0; l < levels; l++) {
                cls.add(views[3 * l]);
                reg.add(views[3 * l + 1]);
                ctr.add(views[3 * l + 2]);
            }
            HeadTensors heads = HeadTensors.of(n, c, shapes, cls, reg, ctr);
            Output out = new Output(heads, pinned, result, block);
            ok = true;
            return out;
        } catch (OrtException e) {
            throw runError(batch, shapes, e);
        } finally {
            if (input != null) {
                closeTensor(input);
            }
            if (!ok) {
                if (result != null) {
                    result.close();
                }
                pinned.values().forEach(OnnxRuntimeNetwork::closeTensor);
                pool.release(block);
            }
        }
    }

    private OnnxTensor tensor(FloatBuffer data, long[] shape) throws OrtException {
        OnnxTensor t = OnnxTensor.createTensor(env, data, shape);
        OPEN_TENSORS.incrementAndGet();
        return t;
    }

    private static void closeTensor(OnnxTensor t) {
        t.close();
        OPEN_TENSORS.decrementAndGet();
    }

    private RuntimeException runError(ImageBatch batch, List<LevelShape> shapes, OrtException e) {
        String msg = e.getMessage() == null ? "" : e.getMessage();
        String what = "model " + modelPath + " on a " + batch.size() + "x3x" + batch.height() + "x" + batch.width()
                + " batch";
        if (msg.contains("hape mismatch") || msg.contains("re-use buffer") || msg.contains("computed output shape")) {
            StringBuilder b = new StringBuilder();
            for (int l = 0; l < shapes.size(); l++) {
                b.append(l == 0 ? "" : ", ").append(shapes.get(l).height()).append('x').append(shapes.get(l).width());
            }
            return new ModelContractException(what + ": the head outputs do not have the contract's level sizes ("
                    + b + " for strides " + metadata.strides() + "): " + msg, e);
        }
        if (msg.contains("nvalid dimensions for input")) {
            return new ModelContractException(what + ": the model's input '" + ModelContract.INPUT
                    + "' does not accept this size (fixed dimensions?): " + msg, e);
        }
        return new NativeLibraryException("ONNX Runtime failed running " + what + ": " + msg, e);
    }

    /** Closes the session; waits for runs in flight; idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            leakRegistration.closed();
            pool.clear();
            try {
                session.close();
            } catch (OrtException e) {
                throw new NativeLibraryException("ONNX Runtime failed closing the session of " + modelPath + ": "
                        + e.getMessage(), e);
            } finally {
                OPEN_SESSIONS.decrementAndGet();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** Diagnostics for leak checks: ONNX Runtime sessions opened by this class and not yet closed, JVM-wide. */
    public static int openSessions() {
        return OPEN_SESSIONS.get();
    }

    /** Diagnostics for leak checks: {@link NetworkOutput}s returned by {@link #run} and not yet closed, JVM-wide. */
    public static int openOutputs() {
        return OPEN_OUTPUTS.get();
    }

    /** Diagnostics for leak checks: ONNX Runtime tensors (inputs and bound outputs) created here and not closed. */
    public static int openTensors() {
        return OPEN_TENSORS.get();
    }

    @Override
    public String toString() {
        return "OnnxRuntimeNetwork[" + modelPath + ", " + metadata.modelName() + ", " + metadata.numClasses()
                + " classes" + (closed ? ", closed" : "") + "]";
    }

    /** The outputs of one run: pinned output tensors over a pooled buffer. */
    private final class Output implements NetworkOutput {
        private final HeadTensors heads;
        private final Map<String, OnnxTensor> pinned;
        private final OrtSession.Result result;
        private final ByteBuffer block;
        private final AtomicBoolean closedFlag = new AtomicBoolean();

        Output(HeadTensors heads, Map<String, OnnxTensor> pinned, OrtSession.Result result, ByteBuffer block) {
            this.heads = heads;
            this.pinned = new HashMap<>(pinned);
            this.result = result;
            this.block = block;
            OPEN_OUTPUTS.incrementAndGet();
        }

        @Override
        public HeadTensors heads() {
            if (closedFlag.get()) {
                throw new ResourceClosedException("head outputs of " + modelPath + " are closed");
            }
            return heads;
        }

        @Override
        public void close() {
            if (!closedFlag.compareAndSet(false, true)) {
                return;
            }
            try {
                result.close();
                for (OnnxTensor t : pinned.values()) {
                    closeTensor(t);
                }
            } finally {
                OPEN_OUTPUTS.decrementAndGet();
                pool.release(block);
            }
        }
    }
}
