package dev.fcos4j.bench;

import dev.fcos4j.Detection;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.DetectionArrays;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import dev.fcos4j.preprocess.ImageMeta;
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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The Java reference post-processing on real FCOS R-50 head shapes: an 800x1344 input (a 1000x600 image resized
 * to 1333x800 and padded), 80 classes, levels 100x168, 50x84, 25x42, 13x21, 7x11 (22,400 points, 1.79 M class
 * logits per image), batch 1, direct buffers as a native backend hands them over.
 *
 * <ul>
 * <li>{@code few}: a trained-model-like map: every logit below logit(0.05) except 300 random ones.</li>
 * <li>{@code dense}: every class probability above 0.05 (logits uniform in [-2.9, 3]): the worst case for the
 * per-level top-1000 and for NMS.</li>
 * </ul>
 * {@code intoArrays} is the allocation-free entry point ({@code -prof gc} should show ~0 B/op),
 * {@code detectionLists} adds the {@code List<Detection>} building.
 *
 * <p>Run (after {@code mvn -B -ntp -o -q package -pl benchmarks -am -DskipTests}):
 * {@code java -cp 'benchmarks/target/classes:benchmarks/target/lib/*' dev.fcos4j.bench.BenchMain} (all of it,
 * with {@code -prof gc}, JSON under benchmarks/results/), or plain {@code org.openjdk.jmh.Main PostProcessBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class PostProcessBenchmark {
    static final int CLASSES = 80;
    static final int[][] LEVELS = {{8, 100, 168}, {16, 50, 84}, {32, 25, 42}, {64, 13, 21}, {128, 7, 11}};
    /** Above-threshold logits in the "few" map. */
    static final int FEW_CANDIDATES = 300;

    @Param({"mmdet", "fcos", "torchvision"})
    public String convention;

    @Param({"few", "dense"})
    public String density;

    private HeadTensors heads;
    private List<ImageMeta> metas;
    private ReferencePostProcessor processor;
    private DetectionArrays out;

    @Setup(Level.Trial)
    public void setUp() {
        heads = r50Heads(density, 1, 42);
        metas = List.of(new ImageMeta(600, 1000, 800, 1333));
        processor = new ReferencePostProcessor(PostProcessConfig.defaults(Convention.parse(convention)), List.of());
        out = new DetectionArrays(1, 100);
        processor.processInto(heads, metas, out);
        if (out.count(0) == 0) {
            throw new IllegalStateException("benchmark input produced no detections");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        processor.close();
    }

    @Benchmark
    public int intoArrays() {
        processor.processInto(heads, metas, out);
        return out.count(0);
    }

    @Benchmark
    public List<List<Detection>> detectionLists() {
        return processor.process(heads, metas);
    }

    /** Builds R-50-shaped head outputs; deterministic for a seed. */
    public static HeadTensors r50Heads(String density, int batch, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<LevelShape> shapes = new ArrayList<>();
        List<FloatBuffer> cls = new ArrayList<>();
        List<FloatBuffer> reg = new ArrayList<>();
        List<FloatBuffer> ctr = new ArrayList<>();
        int totalCls = 0;
        for (int[] l : LEVELS) {
            shapes.add(new LevelShape(l[0], l[1], l[2]));
            totalCls += l[1] * l[2] * CLASSES * batch;
        }
        for (int li = 0; li < LEVELS.length; li++) {
            int hw = LEVELS[li][1] * LEVELS[li][2];
            int stride = LEVELS[li][0];
            FloatBuffer c = direct(hw * CLASSES * batch);
            for (int i = 0; i < c.capacity(); i++) {
                // "few": background logits around -7 (p ~ 1e-3), never above -3.5 (below logit(0.05) = -2.944 and
                // logit(0.2^2) = -3.18, the torchvision prefilter)
                c.put(i, density.equals("dense") ? (float) r.nextDouble(-2.9, 3.0)
                        : (float) Math.min(-3.5, -7.0 + 1.5 * r.nextGaussian()));
            }
            cls.add(c);
            FloatBuffer g = direct(hw * 4 * batch);
            for (int i = 0; i < g.capacity(); i++) {
                g.put(i, (float) r.nextDouble(0, 12 * stride));
            }
            reg.add(g);
            FloatBuffer t = direct(hw * batch);
            for (int i = 0; i < t.capacity(); i++) {
                t.put(i, (float) (1.5 * r.nextGaussian()));
            }
            ctr.add(t);
        }
        if (density.equals("few")) {
            for (int k = 0; k < FEW_CANDIDATES * batch; k++) {
                int pick = r.nextInt(totalCls);
                for (FloatBuffer c : cls) {
                    if (pick < c.capacity()) {
                        c.put(pick, (float) r.nextDouble(-2.9, 3.0));
                        break;
                    }
                    pick -= c.capacity();
                }
            }
        }
        return HeadTensors.of(batch, CLASSES, shapes, cls, reg, ctr);
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
