package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.NativeLibraryException;
import dev.fcos4j.contract.ModelContract;
import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.contract.TensorSpec;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvinfer.BuilderFlag;
import org.bytedeco.tensorrt.global.nvinfer.DataType;
import org.bytedeco.tensorrt.global.nvinfer.OptProfileSelector;
import org.bytedeco.tensorrt.global.nvinfer.TensorFormat;
import org.bytedeco.tensorrt.global.nvinfer.TensorIOMode;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.global.nvonnxparser.OnnxParserFlag;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.ITensor;
import org.bytedeco.tensorrt.nvonnxparser.IParser;
import org.bytedeco.tensorrt.nvonnxparser.IParserError;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A deserialized TensorRT engine for a contract model, validated against the contract, with the fcos4j metadata
 * that the plan itself cannot hold (kept beside it as {@code <plan>.properties}).
 *
 * <p>Engines stay resident for the life of the process and are shared by every network opened on the same plan
 * file: the JavaCPP TensorRT binding (1.5.13) cannot delete TensorRT objects (its {@code deallocate()} has no
 * deallocator for objects TensorRT returns), so re-opening a model must not deserialize (and leak) it again. What a
 * network allocates itself (context memory, streams, device and pinned buffers) is freed on close.
 */
final class TensorRtEngine {
    private static final Logger LOG = Logger.getLogger(TensorRtEngine.class.getName());
    /** Sidecar suffix of a plan: the model's fcos4j metadata as properties. */
    static final String SIDECAR = ".properties";
    static final String KEY_PRECISION = "fcos4j.tensorrt.precision";
    static final String KEY_SOURCE_SHA256 = "fcos4j.tensorrt.source_sha256";
    static final String KEY_TENSORRT = "fcos4j.tensorrt.version";
    private static final Map<String, Resident> RESIDENT = new HashMap<>();

    /** The profile's bounds for the input {@code images}. */
    record Profile(int minBatch, int maxBatch, int minHeight, int maxHeight, int minWidth, int maxWidth) {
    }

    /** One deserialized engine and what was read from it once. */
    record Resident(ICudaEngine engine, Map<String, TensorSpec> inputs, Map<String, TensorSpec> outputs,
                    Map<String, Integer> elementBits, Profile profile, int profiles, long contextMemory) {
    }

    final Path source;
    final Path plan;
    final Resident resident;
    final ModelMetadata metadata;
    final Precision precision;
    final boolean built;

    private TensorRtEngine(Path source, Path plan, Resident resident, ModelMetadata metadata, Precision precision,
                           boolean built) {
        this.source = source;
        this.plan = plan;
        this.resident = resident;
        this.metadata = metadata;
        this.precision = precision;
        this.built = built;
    }

    /** Whether a file is a serialized engine rather than ONNX (by its name: .plan, .engine, .trt). */
    static boolean isPlan(Path model) {
        String n = model.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".plan") || n.endsWith(".engine") || n.endsWith(".trt");
    }

    /**
     * Opens a model: a plan directly, or an ONNX file through the engine cache (built on a miss). Natives are
     * loaded and the device is current.
     */
    static TensorRtEngine open(Path model, TensorRtOptions options) {
        if (isPlan(model)) {
            return openPlan(model, options);
        }
        ModelMetadata fromOnnx = metadataOf(OnnxMetadata.read(model), model.toString());
        int[] cc = Natives.computeCapability(options.device());
        EngineCacheKey key = EngineCacheKey.of(model, options, Natives.version(), cc[0], cc[1]);
        Path cacheDir = options.engineCache();
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException e) {
            throw new ConfigurationException("TensorRT engine cache directory " + cacheDir + " cannot be created: "
                    + e.getMessage(), e);
        }
        Path plan = cacheDir.resolve(key.fileName());
        synchronized (RESIDENT) {
            boolean built = false;
            Resident r = null;
            if (Files.isRegularFile(plan)) {
                try {
                    r = resident(plan, model.toString());
                } catch (NativeLibraryException | ModelContractException e) {
                    // A damaged or foreign file under our name: rebuild it rather than fail.
                    LOG.log(Level.WARNING, "cached engine " + plan + " is unusable, rebuilding: " + e.getMessage());
                    forget(plan);
                }
            }
            if (r == null) {
                build(model, options, plan);
                Map<String, String> props = new TreeMap<>(fromOnnx.toProperties());
                props.put(KEY_PRECISION, options.precision().id());
                props.put(KEY_SOURCE_SHA256, key.modelSha256());
                props.put(KEY_TENSORRT, Natives.version());
                writeSidecar(plan, props);
                r = resident(plan, model.toString());
                built = true;
            }
            ModelMetadata meta = ModelContract.validate(model + " (TensorRT engine " + plan.getFileName() + ")",
                    r.inputs.values(), r.outputs.values(), fromOnnx);
            return new TensorRtEngine(model, plan, r, meta, options.precision(), built);
        }
    }

    private static TensorRtEngine openPlan(Path plan, TensorRtOptions options) {
        if (!Files.isRegularFile(plan)) {
            throw new ConfigurationException("engine file " + plan + " does not exist or is not a regular file");
        }
        Path sidecar = Path.of(plan + SIDECAR);
        if (!Files.isRegularFile(sidecar)) {
            throw new ModelContractException("engine file " + plan + " has no fcos4j metadata: a TensorRT plan cannot "
                    + "hold the model's metadata, so it must sit beside it as " + sidecar.getFileName() + " (written "
                    + "when fcos4j builds an engine into its cache); or give the ONNX model instead");
        }
        Map<String, String> props = readSidecar(sidecar);
        ModelMetadata fromSidecar = metadataOf(props, sidecar.toString());
        synchronized (RESIDENT) {
            Resident r = resident(plan, plan.toString());
            checkGiven(plan, options, r.profile, r.profiles, props.get(KEY_PRECISION));
            ModelMetadata meta = ModelContract.validate(plan.toString(), r.inputs.values(), r.outputs.values(),
                    fromSidecar);
            Precision precision = props.containsKey(KEY_PRECISION) ? Precision.parse(props.get(KEY_PRECISION))
                    : options.precision();
            return new TensorRtEngine(plan, plan, r, meta, precision, false);
        }
    }

    /** Options given explicitly must match what a ready-made plan was built for. */
    private static void checkGiven(Path plan, TensorRtOptions o, Profile p, int profiles, String precision) {
        List<String> clashes = new ArrayList<>();
        if (o.given().contains(TensorRtOptions.MAX_BATCH) && o.maxBatch() != p.maxBatch) {
            clashes.add(TensorRtOptions.MAX_BATCH + " " + o.maxBatch() + " (the engine's is " + p.maxBatch + ")");
        }
        if (o.given().contains(TensorRtOptions.MAX_HEIGHT) && o.maxHeight() != p.maxHeight) {
            clashes.add(TensorRtOptions.MAX_HEIGHT + " " + o.maxHeight() + " (the engine's is " + p.maxHeight + ")");
        }
        if (o.given().contains(TensorRtOptions.MAX_WIDTH) && o.maxWidth() != p.maxWidth) {
            clashes.add(TensorRtOptions.MAX_WIDTH + " " + o.maxWidth() + " (the engine's is " + p.maxWidth + ")");
        }
        if (o.given().contains(TensorRtOptions.CONTEXTS) && o.contexts() > profiles) {
            clashes.add(TensorRtOptions.CONTEXTS + " " + o.contexts() + " (the engine has " + profiles
                    + " optimization profile(s), one per context)");
        }
        if (o.given().contains(TensorRtOptions.PRECISION) && precision != null
                && !o.precision().id().equals(precision)) {
            clashes.add(TensorRtOptions.PRECISION + " " + o.precision().id() + " (the engine's is " + precision + ")");
        }
        if (!clashes.isEmpty()) {
            throw new ConfigurationException("engine file " + plan + " was built for other settings than asked: "
                    + String.join(", ", clashes) + "; give the ONNX model to build a matching engine");
        }
    }

    private static ModelMetadata metadataOf(Map<String, String> props, String source) {
        try {
            return ModelMetadata.fromProperties(props);
        } catch (ModelContractException e) {
            throw e.getMessage().contains(source) ? e
                    : new ModelContractException("model " + source + ": " + e.getMessage(), e);
        }
    }

    private static String residentKey(Path plan) {
        try {
            Path real = plan.toRealPath();
            return real + "|" + Files.size(real) + "|" + Files.getLastModifiedTime(real).toMillis();
        } catch (IOException e) {
            throw new ConfigurationException("engine file " + plan + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static void forget(Path plan) {
        try {
            RESIDENT.remove(residentKey(plan));
        } catch (ConfigurationException ignored) {
            // Nothing resident under a file we cannot stat.
        }
    }

    /** The resident engine of a plan file, deserializing it on first use. Caller holds RESIDENT. */
    private static Resident resident(Path plan, String what) {
        String key = residentKey(plan);
        Resident r = RESIDENT.get(key);
        if (r == null) {
            r = deserialize(plan, what);
            RESIDENT.put(key, r);
        }
        return r;
    }

    private static Resident deserialize(Path plan, String what) {
        TensorRtLogger log = Natives.logger();
        long size;
        try {
            size = Files.size(plan);
        } catch (IOException e) {
            throw new ConfigurationException("engine file " + plan + " cannot be read: " + e.getMessage(), e);
        }
        if (size == 0) {
            throw new ModelContractException("engine file " + plan + " is empty");
        }
        BytePointer bytes = new BytePointer(size);
        try {
            try (FileChannel ch = FileChannel.open(plan, StandardOpenOption.READ)) {
                long done = 0;
                while (done < size) {
                    long n = Math.min(size - done, 1 << 26);
                    ByteBuffer chunk = Address.view(bytes, done, n);
                    while (chunk.hasRemaining()) {
                        if (ch.read(chunk) < 0) {
                            throw new IOException("file shrank while reading");
                        }
                    }
                    done += n;
                }
            } catch (IOException e) {
                throw new ConfigurationException("engine file " + plan + " cannot be read: " + e.getMessage(), e);
            }
            long mark = log.mark();
            ICudaEngine engine = Natives.runtime().deserializeCudaEngine(bytes, size);
            if (engine == null || engine.isNull()) {
                throw new NativeLibraryException("TensorRT " + Natives.version() + " could not deserialize engine file "
                        + plan + " (for " + what + "; plans only load into the TensorRT version and GPU architecture "
                        + "that built them)" + log.said(mark));
            }
            return describe(engine, plan);
        } finally {
            bytes.deallocate();
        }
    }

    private static Resident describe(ICudaEngine engine, Path plan) {
        Map<String, TensorSpec> inputs = new HashMap<>();
        Map<String, TensorSpec> outputs = new HashMap<>();
        Map<String, Integer> bits = new HashMap<>();
        List<String> problems = new ArrayList<>();
        int n = engine.getNbIOTensors();
        for (int i = 0; i < n; i++) {
            String name = engine.getIOTensorName(i);
            DataType type = engine.getTensorDataType(name);
            TensorSpec spec = new TensorSpec(name, TensorTypes.name(type), shape(engine.getTensorShape(name)));
            bits.put(name, TensorTypes.bits(type));
            if (engine.getTensorIOMode(name).value == TensorIOMode.kINPUT.value) {
                inputs.put(name, spec);
            } else {
                outputs.put(name, spec);
            }
            if (engine.getTensorFormat(name).value != TensorFormat.kLINEAR.value) {
                problems.add("tensor '" + name + "' has format " + engine.getTensorFormatDesc(name)
                        + ", the contract needs linear NCHW");
            }
        }
        if (!problems.isEmpty()) {
            throw new ModelContractException("engine " + plan + ": " + String.join("; ", problems));
        }
        Profile profile = null;
        if (inputs.containsKey(ModelContract.INPUT) && engine.getNbOptimizationProfiles() > 0) {
            long[] min = shape(engine.getProfileShape(ModelContract.INPUT, 0, OptProfileSelector.kMIN));
            long[] max = shape(engine.getProfileShape(ModelContract.INPUT, 0, OptProfileSelector.kMAX));
            if (min.length == 4 && max.length == 4) {
                profile = new Profile((int) min[0], (int) max[0], (int) min[2], (int) max[2], (int) min[3],
                        (int) max[3]);
            }
        }
        if (profile == null && inputs.containsKey(ModelContract.INPUT)) {
            // No profile: a fully static engine; its input shape is the only one.
            long[] s = inputs.get(ModelContract.INPUT).shape();
            if (s.length == 4 && s[0] > 0 && s[2] > 0 && s[3] > 0) {
                profile = new Profile((int) s[0], (int) s[0], (int) s[2], (int) s[2], (int) s[3], (int) s[3]);
            }
        }
        if (profile == null) {
            profile = new Profile(1, 1, 1, 1, 1, 1); // validation reports the input problem
        }
        return new Resident(engine, inputs, outputs, bits, profile, Math.max(1, engine.getNbOptimizationProfiles()),
                engine.getDeviceMemorySizeV2());
    }

    /** A TensorRT shape as an array ({@code -1} for a dynamic dimension; empty when TensorRT has none). */
    static long[] shape(Dims64 d) {
        long[] out = new long[Math.max(0, d.nbDims())];
        for (int i = 0; i < out.length; i++) {
            out[i] = d.d(i);
        }
        return out;
    }

    static Dims64 dims(long... values) {
        Dims64 d = new Dims64();
        d.nbDims(values.length);
        for (int i = 0; i < values.length; i++) {
            d.d(i, values[i]);
        }
        return d;
    }

    /**
     * Builds a plan from an ONNX file into {@code plan} (written atomically). fp16 uses {@code BuilderFlag.kFP16},
     * deprecated since TensorRT 10.12 in favour of strongly typed networks (which would need an fp16 ONNX), and still
     * honoured by TensorRT 10.
     */
    @SuppressWarnings("deprecation")
    private static void build(Path onnx, TensorRtOptions o, Path plan) {
        TensorRtLogger log = Natives.logger();
        long mark = log.mark();
        LOG.info("building a TensorRT " + o.precision().id() + " engine from " + onnx + " into " + plan
                + " (once per model, precision, profile, TensorRT version and GPU; this can take minutes)");
        IBuilder builder = nvinfer.createInferBuilder(log);
        if (builder == null || builder.isNull()) {
            throw new NativeLibraryException("TensorRT could not create a builder" + log.said(mark));
        }
        INetworkDefinition network = null;
        IParser parser = null;
        IBuilderConfig config = null;
        IHostMemory serialized = null;
        try {
            network = builder.createNetworkV2(0);
            if (network == null || network.isNull()) {
                throw new NativeLibraryException("TensorRT could not create a network definition" + log.said(mark));
            }
            parser = nvonnxparser.createParser(network, log);
            if (parser == null || parser.isNull()) {
                throw new NativeLibraryException("TensorRT could not create an ONNX parser" + log.said(mark));
            }
            // GroupNorm is exported as Reshape + InstanceNormalization. TensorRT 10's parser maps that to its native
            // normalization layer by default; the alternative, the InstanceNormalization_TRT plugin, would need
            // libnvinfer_plugin, which fcos4j does not load. Set explicitly so a changed default cannot break it.
            parser.setFlag(OnnxParserFlag.kNATIVE_INSTANCENORM);
            if (!parser.parseFromFile(onnx.toString(), ILogger.Severity.kWARNING.value)) {
                List<String> errors = new ArrayList<>();
                for (int i = 0; i < parser.getNbErrors(); i++) {
                    IParserError e = parser.getError(i);
                    errors.add(e.desc() + (e.nodeName() == null || e.nodeName().isEmpty() ? ""
                            : " (node " + e.nodeName() + ", " + e.nodeOperator() + ")"));
                }
                throw new ModelContractException("TensorRT's ONNX parser rejected model file " + onnx + ": "
                        + (errors.isEmpty() ? "no detail" + log.said(mark) : String.join("; ", errors)));
            }
            ITensor input = null;
            List<String> inputNames = new ArrayList<>();
            for (int i = 0; i < network.getNbInputs(); i++) {
                ITensor t = network.getInput(i);
                inputNames.add(t.getName());
                if (ModelContract.INPUT.equals(t.getName())) {
                    input = t;
                }
            }
            if (input == null) {
                throw new ModelContractException("model " + onnx + " does not follow the fcos4j model contract: input '"
                        + ModelContract.INPUT + "' is missing (the model's inputs are " + inputNames + ")");
            }
            long[] declared = shape(input.getDimensions());
            if (declared.length != 4) {
                throw new ModelContractException("model " + onnx + ": input '" + ModelContract.INPUT + "' has rank "
                        + declared.length + ", expected float32 [N,3,H,W]");
            }
            long[][] bounds = o.profileBounds(declared);
            config = builder.createBuilderConfig();
            // One identical profile per execution context: TensorRT lets a profile serve one context at a time.
            for (int k = 0; k < o.contexts(); k++) {
                IOptimizationProfile profile = builder.createOptimizationProfile();
                boolean ok = profile.setDimensions(ModelContract.INPUT, OptProfileSelector.kMIN, dims(bounds[0]))
                        && profile.setDimensions(ModelContract.INPUT, OptProfileSelector.kOPT, dims(bounds[1]))
                        && profile.setDimensions(ModelContract.INPUT, OptProfileSelector.kMAX, dims(bounds[2]));
                if (!ok || config.addOptimizationProfile(profile) < 0) {
                    throw new NativeLibraryException("TensorRT refused optimization profile " + k + " for '"
                            + ModelContract.INPUT + "' of " + onnx + log.said(mark));
                }
            }
            if (o.precision() == Precision.FP16) {
                config.setFlag(BuilderFlag.kFP16);
            } else {
                // TF32 is on by default and would move fp32 results by ~1e-3: fp32 means IEEE float32 here.
                config.clearFlag(BuilderFlag.kTF32);
            }
            serialized = builder.buildSerializedNetwork(network, config);
            if (serialized == null || serialized.isNull() || serialized.size() == 0) {
                throw new NativeLibraryException("TensorRT could not build an engine from model file " + onnx
                        + log.said(mark));
            }
            writeAtomically(plan, serialized.data(), serialized.size());
        } finally {
            // Best effort: the 1.5.13 binding may not free these (see the class comment); builds are rare.
            for (Pointer p : new Pointer[] {serialized, config, parser, network, builder}) {
                if (p != null) {
                    p.deallocate();
                }
            }
        }
    }

    private static void writeAtomically(Path target, Pointer data, long size) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                long done = 0;
                while (done < size) {
                    long n = Math.min(size - done, 1 << 26);
                    ByteBuffer chunk = Address.view(data, done, n);
                    while (chunk.hasRemaining()) {
                        ch.write(chunk);
                    }
                    done += n;
                }
                ch.force(true);
            }
            move(tmp, target);
        } catch (IOException e) {
            throw new ConfigurationException("cannot write engine file " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // Left-over temporary file only.
                }
            }
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void writeSidecar(Path plan, Map<String, String> props) {
        Path sidecar = Path.of(plan + SIDECAR);
        Properties p = new Properties();
        p.putAll(props);
        try {
            Path tmp = Files.createTempFile(sidecar.getParent(), sidecar.getFileName().toString(), ".part");
            try (OutputStream out = Files.newOutputStream(tmp);
                 Writer w = new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8)) {
                p.store(w, "fcos4j metadata of the TensorRT engine " + plan.getFileName());
            }
            move(tmp, sidecar);
        } catch (IOException e) {
            throw new ConfigurationException("cannot write " + sidecar + ": " + e.getMessage(), e);
        }
    }

    static Map<String, String> readSidecar(Path sidecar) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(sidecar, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new ModelContractException("engine metadata " + sidecar + " cannot be read: " + e.getMessage(), e);
        }
        Map<String, String> out = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            out.put(k, p.getProperty(k));
        }
        return out;
    }

    /** Engines deserialized in this process (they stay resident; see the class comment). */
    static int residentEngines() {
        synchronized (RESIDENT) {
            return RESIDENT.size();
        }
    }
}
