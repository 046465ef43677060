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
 * fcos4j's Java post-processing on the exact head maps the CPU peers are timed on
 * (benchmarks/peers/postprocess_side_by_side.py writes them to {@code dir}; see {@link PeerInputs}).
 * Sample-time mode, so the JSON holds the median and p99 of single calls; one call processes a whole batch
 * on one thread (the script divides by the batch for per-image figures). Run it through
 * {@code make bench-peers}, which passes {@code -p dir=...}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class PeerSideBySideBenchmark {
    /** Folder holding few.npz and dense.npz. */
    @Param("out/bench-peers")
    public String dir;

    @Param({"mmdet", "torchvision"})
    public String convention;

    @Param({"few", "dense"})
    public String map;

    @Param({"1", "8"})
    public int batch;

    /** Threads sharing a batch ({@code make bench-batch-threads} runs 1 and 2 at batch 8, AverageTime). */
    @Param("1")
    public int threads;

    private PeerInputs inputs;
    private ReferencePostProcessor processor;
    private DetectionArrays out;

    @Setup(Level.Trial)
    public void setUp() {
        inputs = PeerInputs.load(Path.of(dir), map, batch);
        processor = new ReferencePostProcessor(PostProcessConfig.defaults(Convention.parse(convention)), List.of(),
                threads);
        out = new DetectionArrays(batch, 100);
        processor.processInto(inputs.heads(), inputs.metas(), out);
        if (out.count(0) == 0) {
            throw new IllegalStateException("benchmark input produced no detections");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        processor.close();
    }

    /** The allocation-free entry point, as in PostProcessBenchmark.intoArrays. */
    @Benchmark
    public int intoArrays() {
        processor.processInto(inputs.heads(), inputs.metas(), out);
        return out.count(0);
    }
}
