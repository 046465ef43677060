package dev.fcos4j.nativ;

import dev.fcos4j.Detection;
import dev.fcos4j.InvalidHeadOutputException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.ResourceClosedException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.memory.LeakTracker;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.DetectionArrays;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import dev.fcos4j.preprocess.ImageMeta;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The emulated native post-processor on the real R-50 shape, invalid input and lifecycle. */
class NativePostProcessorTest {
    private static final HeadShape R50 = HeadShape.fpn(2, 80, 800, 1344, 8, 16, 32, 64, 128);

    @BeforeAll
    static void load() {
        NativeTestSupport.requireEmulated();
    }

    @AfterEach
    void noLeaks() {
        assertEquals(0, NativePostProcessor.openHandles(), "open native post-processors");
        assertEquals(0, NativePostProcessor.deviceBytes(), "device bytes held");
    }

    /** Seeded heads: "dense" logits mostly above the threshold, "few" a sparse scatter of candidates. */
    static HeadTensors heads(HeadShape shape, int batch, String mode, long seed, boolean direct) {
        SplittableRandom r = new SplittableRandom(seed);
        List<FloatBuffer> cls = new ArrayList<>();
        List<FloatBuffer> reg = new ArrayList<>();
        List<FloatBuffer> ctr = new ArrayList<>();
        for (LevelShape l : shape.levels()) {
            int hw = l.points();
            FloatBuffer c = buffer(batch * shape.numClasses() * hw, direct);
            for (int i = 0; i < c.capacity(); i++) {
                c.put(i, mode.equals("dense") ? (float) r.nextDouble(-3.5, 3) : r.nextInt(400) == 0 ? (float) r.nextDouble(-3, 5) : -8f);
            }
            FloatBuffer g = buffer(batch * 4 * hw, direct);
            for (int i = 0; i < g.capacity(); i++) {
                g.put(i, (float) r.nextDouble(0, 6 * l.stride()));
            }
            FloatBuffer t = buffer(batch * hw, direct);
            for (int i = 0; i < t.capacity(); i++) {
                t.put(i, (float) r.nextDouble(-3, 3));
            }
            cls.add(c);
            reg.add(g);
            ctr.add(t);
        }
        return HeadTensors.of(batch, shape.numClasses(), shape.levels(), cls, reg, ctr);
    }

    private static FloatBuffer buffer(int n, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer() : FloatBuffer.allocate(n);
    }

    static List<ImageMeta> metas(int batch) {
        List<ImageMeta> m = new ArrayList<>();
        for (int n = 0; n < batch; n++) {
            m.add(n == 0 ? new ImageMeta(480, 640, 800, 1067) : new ImageMeta(427, 640, 800, 1199));
        }
        return m;
    }

    @ParameterizedTest
    @CsvSource({"mmdet,few,1", "mmdet,dense,2", "fcos,few,2", "fcos,dense,1", "torchvision,few,1", "torchvision,dense,2"})
    void r50ShapeEqualsTheReference(String convention, String mode, int batch) {
        PostProcessConfig cfg = PostProcessConfig.defaults(Convention.parse(convention));
        HeadTensors h = heads(R50, batch, mode, 42 + batch, batch == 2);
        List<List<Detection>> expected;
        try (ReferencePostProcessor ref = new ReferencePostProcessor(cfg, List.of())) {
            expected = ref.process(h, metas(batch));
        }
        assertTrue(expected.get(0).size() > 0, "the seeded heads must produce detections");
        try (NativePostProcessor nat = NativePostProcessor.create(Flavour.EMULATED, cfg, List.of(), R50)) {
            long t0 = System.nanoTime();
            List<List<Detection>> actual = nat.process(h, metas(batch));
            long t1 = System.nanoTime();
            if (batch == 1) {
                System.out.printf("R-50 %s %s batch 1, emulated kernels: %.1f ms (one call, informational)%n",
                        convention, mode, (t1 - t0) / 1e6);
            }
            NativeTestSupport.assertSameDetections("R-50 " + convention + " " + mode + " batch " + batch, expected, actual);
        }
    }

    @Test
    void nonFiniteClassLogitIsATypedErrorNamingImageAndTensor() {
        PostProcessConfig cfg = PostProcessConfig.defaults(Convention.MMDET);
        HeadShape shape = HeadShape.fpn(2, 3, 64, 96, 8, 16, 32, 64, 128);
        HeadTensors h = heads(shape, 2, "few", 5, false);
        LevelShape l2 = shape.levels().get(2);
        // image 1, class 2, y 1, x 2 of level 2
        h.cls(2).put(((1 * 3 + 2) * l2.height() + 1) * l2.width() + 2, Float.NaN);
        try (NativePostProcessor nat = NativePostProcessor.create(Flavour.EMULATED, cfg, List.of(), shape)) {
            InvalidHeadOutputException e = assertThrows(InvalidHeadOutputException.class, () -> nat.process(h, metas(2)));
            assertTrue(e.getMessage().contains("cls_2"), e.getMessage());
            assertTrue(e.getMessage().contains("1"), e.getMessage());
            // the same object still works afterwards on valid input
            h.cls(2).put(((1 * 3 + 2) * l2.height() + 1) * l2.width() + 2, -8f);
            try (ReferencePostProcessor ref = new ReferencePostProcessor(cfg, List.of())) {
                NativeTestSupport.assertSameDetections("after NaN", ref.process(h, metas(2)), nat.process(h, metas(2)));
            }
        }
    }

    @Test
    void processIntoFillsCallerArrays() {
        PostProcessConfig cfg = PostProcessConfig.defaults(Convention.FCOS);
        HeadShape shape = HeadShape.fpn(2, 4, 128, 160, 8, 16, 32, 64, 128);
        HeadTensors h = heads(shape, 2, "dense", 9, true);
        DetectionArrays out = new DetectionArrays(3, cfg.maxDetections() + 5);
        out.counts()[2] = 7;
        List<List<Detection>> expected;
        try (ReferencePostProcessor ref = new ReferencePostProcessor(cfg, List.of())) {
            expected = ref.process(h, metas(2));
        }
        try (NativePostProcessor nat = NativePostProcessor.create(Flavour.EMULATED, cfg, List.of(), shape)) {
            nat.processInto(h, metas(2), out);
        }
        for (int n = 0; n < 2; n++) {
            assertEquals(expected.get(n).size(), out.count(n));
            for (int i = 0; i < out.count(n); i++) {
                Detection d = expected.get(n).get(i);
                assertEquals(d.x1(), out.x1(n, i));
                assertEquals(d.y2(), out.y2(n, i));
                assertEquals(d.score(), out.score(n, i));
                assertEquals(d.classId(), out.classId(n, i));
            }
        }
        assertEquals(0, out.count(2), "images beyond the batch are cleared");
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() {
        PostProcessConfig cfg = PostProcessConfig.defaults(Convention.MMDET);
        HeadShape shape = HeadShape.fpn(1, 2, 64, 64, 8, 16, 32, 64, 128);
        NativePostProcessor nat = NativePostProcessor.create(Flavour.EMULATED, cfg, List.of("a", "b"), shape);
        assertEquals(1, NativePostProcessor.openHandles());
        assertTrue(NativePostProcessor.deviceBytes() > 0);
        nat.close();
        nat.close();
        assertEquals(0, NativePostProcessor.openHandles());
        HeadTensors h = heads(shape, 1, "few", 1, false);
        assertThrows(ResourceClosedException.class, () -> nat.process(h, metas(1)));
    }

    private static void dropUnclosed(HeadShape shape) {
        NativePostProcessor nat = NativePostProcessor.create(Flavour.EMULATED, PostProcessConfig.defaults(Convention.MMDET),
                List.of(), shape);
        assertEquals(1, nat.process(heads(shape, 1, "few", 3, false), metas(1)).size());
    }

    @Test
    void aPostProcessorDroppedWithoutCloseIsFreedByTheLeakTracker() throws InterruptedException {
        long leaksBefore = LeakTracker.leaked();
        dropUnclosed(HeadShape.fpn(1, 2, 64, 64, 8, 16, 32, 64, 128));
        assertEquals(1, NativePostProcessor.openHandles());
        for (int i = 0; i < 400 && NativePostProcessor.openHandles() > 0; i++) {
            System.gc();
            Thread.sleep(25);
        }
        assertEquals(0, NativePostProcessor.openHandles(), "the native handle was destroyed");
        assertEquals(0, NativePostProcessor.deviceBytes(), "the device buffers were freed");
        assertTrue(LeakTracker.leaked() > leaksBefore);
    }

    @Test
    void headsLargerThanTheMaxShapeAreRejected() {
        PostProcessConfig cfg = PostProcessConfig.defaults(Convention.MMDET);
        HeadShape small = HeadShape.fpn(1, 2, 64, 64, 8, 16, 32, 64, 128);
        HeadShape big = HeadShape.fpn(2, 2, 64, 64, 8, 16, 32, 64, 128);
        HeadShape wide = HeadShape.fpn(1, 2, 64, 128, 8, 16, 32, 64, 128);
        try (NativePostProcessor nat = NativePostProcessor.create(Flavour.EMULATED, cfg, List.of(), small)) {
            assertThrows(ModelContractException.class, () -> nat.process(heads(big, 2, "few", 1, false), metas(2)));
            assertThrows(ModelContractException.class, () -> nat.process(heads(wide, 1, "few", 1, false), metas(1)));
            assertThrows(ModelContractException.class, () -> nat.process(heads(small, 1, "few", 1, false), metas(2)));
        }
    }

    @Test
    void concurrentCallsOnOneObjectAreSerialized() throws Exception {
        PostProcessConfig cfg = PostProcessConfig.defaults(Convention.MMDET);
        HeadShape shape = HeadShape.fpn(2, 5, 96, 128, 8, 16, 32, 64, 128);
        HeadTensors a = heads(shape, 2, "dense", 11, false);
        HeadTensors b = heads(shape, 1, "dense", 12, true);
        List<List<Detection>> ea;
        List<List<Detection>> eb;
        try (ReferencePostProcessor ref = new ReferencePostProcessor(cfg, List.of())) {
            ea = ref.process(a, metas(2));
            eb = ref.process(b, metas(1));
        }
        try (NativePostProcessor nat = NativePostProcessor.create(Flavour.EMULATED, cfg, List.of(), shape)) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    boolean first = i % 2 == 0;
                    fs.add(pool.submit(() -> NativeTestSupport.assertSameDetections("concurrent",
                            first ? ea : eb, first ? nat.process(a, metas(2)) : nat.process(b, metas(1)))));
                }
                for (java.util.concurrent.Future<?> f : fs) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void otherFlavourInTheSameJvmIsATypedError() {
        assertThrows(dev.fcos4j.NativeLibraryException.class, () -> NativeLibrary.load(Flavour.CUDA));
    }
}
