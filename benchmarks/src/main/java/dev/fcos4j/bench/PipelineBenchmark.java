package dev.fcos4j.bench;

import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.contract.NetworkOutput;
import dev.fcos4j.onnx.OnnxRuntimeNetwork;
import dev.fcos4j.postprocess.DetectionArrays;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import dev.fcos4j.preprocess.ImageBatch;
import dev.fcos4j.preprocess.Preprocessor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CPU pipeline stage by stage on a real photo with the R-50 model in ONNX Runtime: what share of the
 * end-to-end time pre- and post-processing take (target: at most 5 %). The model comes from
 * {@code make r50-model} ({@code -Dfcos4j.bench.model}, default models/fcos_r50_torchvision.onnx; exported with
 * {@code --raise-cls-bias 1.0} the untrained network gives a full post-processing load), the image from
 * {@code -Dfcos4j.bench.image} (default samples/chelsea.png).
 *
 * <ul>
 * <li>{@code preprocess}: decode + resize to the model's scale + normalize + pad.</li>
 * <li>{@code network}: ONNX Runtime on the preprocessed batch (all cores).</li>
 * <li>{@code postprocess}: the Java reference on that network's real head outputs.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class PipelineBenchmark {
    private Path image;
    private Preprocessor preprocessor;
    private OnnxRuntimeNetwork network;
    private ImageBatch batch;
    private NetworkOutput output;
    private ReferencePostProcessor postProcessor;
    private DetectionArrays detections;

    @Setup(Level.Trial)
    public void setUp() {
        Path model = Path.of(System.getProperty("fcos4j.bench.model", "models/fcos_r50_torchvision.onnx"));
        image = Path.of(System.getProperty("fcos4j.bench.image", "samples/chelsea.png"));
        if (!Files.isRegularFile(model)) {
            throw new IllegalStateException("benchmark model " + model.toAbsolutePath() + " is missing: run make r50-model");
        }
        network = OnnxRuntimeNetwork.load(model);
        ModelMetadata meta = network.metadata();
        preprocessor = new Preprocessor(meta.preprocess());
        batch = preprocessor.preprocessFiles(List.of(image));
        output = network.run(batch);
        postProcessor = new ReferencePostProcessor(meta.postprocess(), meta.classNames());
        detections = new DetectionArrays(1, meta.postprocess().maxDetections());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        output.close();
        postProcessor.close();
        preprocessor.close();
        network.close();
    }

    /** As the Detector does it: the batch's buffer goes back to the pool once the network has read it. */
    @Benchmark
    public int preprocess() {
        ImageBatch b = preprocessor.preprocessFiles(List.of(image));
        int height = b.height();
        preprocessor.release(b);
        return height;
    }

    @Benchmark
    public int network() {
        try (NetworkOutput out = network.run(batch)) {
            return out.heads().numLevels();
        }
    }

    @Benchmark
    public int postprocess() {
        postProcessor.processInto(output.heads(), batch.metas(), detections);
        return detections.count(0);
    }
}
