package dev.fcos4j.bench;

import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.DetectionArrays;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A batch of 8 R-50 head maps (the side-by-side inputs, {@code make bench-peers} writes them) post-processed by one
 * thread or shared by {@code threads} ({@link ReferencePostProcessor}'s helpers). Time per batch; divide by 8 for
 * the per-image figure. {@code make bench-batch-threads}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class BatchThreadsBenchmark {
    /** Folder holding few.npz and dense.npz. */
    @Param("out/bench-peers")
    public String dir;

    @Param({"mmdet", "torchvision"})
    public String convention;

    @Param({"few", "dense"})
    public String map;

    @Param({"1", "2"})
    public int threads;

    private PeerInputs inputs;
    private ReferencePostProcessor processor;
    private DetectionArrays out;

    @Setup(Level.Trial)
    public void setUp() {
        inputs = PeerInputs.load(Path.of(dir), map, 8);
        processor = new ReferencePostProcessor(PostProcessConfig.defaults(Convention.parse(convention)), List.of(),
                threads);
        out = new DetectionArrays(8, 100);
        processor.processInto(inputs.heads(), inputs.metas(), out);
        if (out.count(7) == 0) {
            throw new IllegalStateException("benchmark input produced no detections");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        processor.close();
    }

    @Benchmark
    public int batchOf8() {
        processor.processInto(inputs.heads(), inputs.metas(), out);
        return out.count(7);
    }
}
