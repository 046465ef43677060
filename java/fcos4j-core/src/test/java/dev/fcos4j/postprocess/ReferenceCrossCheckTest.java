package dev.fcos4j.postprocess;

import dev.fcos4j.Detection;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.preprocess.ImageMeta;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.fcos4j.postprocess.TestHeads.level;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random heads through the optimized reference and the plain {@link NaiveSpec}: exercises the logit bound as it
 * rises, heap replacement with ties, caps and NMS on many more configurations than hand-made cases can.
 */
class ReferenceCrossCheckTest {
    /** Level 0: 96x80 input (12x10 at stride 8), then 6x5 and 3x3. */
    static TestHeads randomHeads(SplittableRandom r, int batch, int classes, String mode) {
        TestHeads h = new TestHeads(batch, classes, level(8, 12, 10), level(16, 6, 5), level(32, 3, 3));
        for (int l = 0; l < 3; l++) {
            for (int i = 0; i < h.cls[l].length; i++) {
                h.cls[l][i] = switch (mode) {
                    case "dense" -> (float) r.nextDouble(-2.9, 4);
                    case "few" -> r.nextInt(50) == 0 ? (float) r.nextDouble(-4, 4) : -9f;
                    default -> r.nextInt(6) * 0.5f - 1f; // quantized: many exact ties
                };
            }
            for (int i = 0; i < h.ctr[l].length; i++) {
                h.ctr[l][i] = mode.equals("ties") ? r.nextInt(3) - 1f : (float) r.nextDouble(-3, 3);
            }
            for (int i = 0; i < h.reg[l].length; i++) {
                h.reg[l][i] = mode.equals("ties") ? r.nextInt(4) * 8f : (float) r.nextDouble(0, 40);
            }
        }
        return h;
    }

    static List<ImageMeta> metas(int batch) {
        List<ImageMeta> all = List.of(new ImageMeta(150, 110, 90, 70), ImageMeta.unscaled(96, 80),
                new ImageMeta(47, 61, 93, 77));
        return all.subList(0, batch);
    }

    static void assertSame(List<List<Detection>> expected, List<List<Detection>> actual, String what) {
        assertEquals(expected.size(), actual.size(), what);
        for (int n = 0; n < expected.size(); n++) {
            List<Detection> e = expected.get(n);
            List<Detection> a = actual.get(n);
            assertEquals(e.size(), a.size(), what + " image " + n);
            for (int i = 0; i < e.size(); i++) {
                Detection x = e.get(i);
                Detection y = a.get(i);
                assertTrue(x.x1() == y.x1() && x.y1() == y.y1() && x.x2() == y.x2() && x.y2() == y.y2()
                        && x.score() == y.score() && x.classId() == y.classId(),
                        what + " image " + n + " detection " + i + ": expected " + x + " got " + y);
            }
        }
    }

    @Test
    void optimizedReferenceMatchesNaiveReading() {
        SplittableRandom r = new SplittableRandom(20261125);
        int cases = 0;
        int detections = 0;
        for (Convention c : Convention.values()) {
            for (String mode : new String[] {"dense", "few", "ties"}) {
                for (int nmsPre : new int[] {1, 7, 60, 1000}) {
                    float iou = new float[] {0.3f, 0.5f, 0.7f}[r.nextInt(3)];
                    int maxDet = new int[] {5, 100}[r.nextInt(2)];
                    float thr = mode.equals("dense") && r.nextBoolean() ? 0f : PostProcessConfig.defaults(c).scoreThreshold();
                    PostProcessConfig cfg = PostProcessConfig.defaults(c).withNmsPre(nmsPre).withIouThreshold(iou)
                            .withMaxDetections(maxDet).withScoreThreshold(thr);
                    int batch = 1 + r.nextInt(3);
                    TestHeads h = randomHeads(r, batch, 1 + r.nextInt(5), mode);
                    List<List<Detection>> expected = NaiveSpec.run(cfg, h, metas(batch));
                    try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg, List.of())) {
                        assertSame(expected, pp.process(h.build(), metas(batch)), cfg + " " + mode);
                    }
                    cases++;
                    detections += expected.stream().mapToInt(List::size).sum();
                }
            }
        }
        assertEquals(36, cases);
        assertTrue(detections > 500, "the random cases must produce detections, got " + detections);
    }

    @Test
    void extremeAndSaturatedValuesStayExact() {
        // saturated sigmoids (1.0f and 0 / denormal probabilities), huge logits and centerness at the ends of
        // the softplus cap: the prefilter bounds must stay conservative everywhere
        float[] logits = {-1e30f, -120f, -90f, -20f, -3.2f, -2.944f, -1f, 0f, 1e-7f, 5f, 16.6f, 17f, 40f, 1e4f, 1e30f};
        float[] centers = {-1e30f, -100f, -70f, -30f, -5f, 0f, 0.5f, 17f, 30f, 1e30f};
        SplittableRandom r = new SplittableRandom(99);
        for (Convention c : Convention.values()) {
            for (int nmsPre : new int[] {1, 5, 40, 400}) {
                for (float thr : new float[] {0f, PostProcessConfig.defaults(c).scoreThreshold(), 0.9f}) {
                    TestHeads h = new TestHeads(2, 6, level(8, 12, 10), level(16, 6, 5), level(32, 3, 3));
                    for (int l = 0; l < 3; l++) {
                        for (int i = 0; i < h.cls[l].length; i++) {
                            h.cls[l][i] = logits[r.nextInt(logits.length)];
                        }
                        for (int i = 0; i < h.ctr[l].length; i++) {
                            h.ctr[l][i] = centers[r.nextInt(centers.length)];
                        }
                        for (int i = 0; i < h.reg[l].length; i++) {
                            h.reg[l][i] = r.nextInt(6) * 7f;
                        }
                    }
                    PostProcessConfig cfg = PostProcessConfig.defaults(c).withNmsPre(nmsPre).withScoreThreshold(thr)
                            .withIouThreshold(1f).withMaxDetections(2000); // every selected candidate shows
                    try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg, List.of())) {
                        assertSame(NaiveSpec.run(cfg, h, metas(2)), pp.process(h.build(), metas(2)), cfg.toString());
                    }
                }
            }
        }
    }

    @Test
    void largeLevelWithManyClassesMatchesNaiveReading() {
        // big enough for the per-point centerness bounds to be refreshed several times inside one level
        SplittableRandom r = new SplittableRandom(4242);
        for (Convention c : Convention.values()) {
            TestHeads h = new TestHeads(1, 20, level(8, 40, 50), level(16, 20, 25));
            for (int l = 0; l < 2; l++) {
                for (int i = 0; i < h.cls[l].length; i++) {
                    h.cls[l][i] = (float) r.nextDouble(-2.9, 3);
                }
                for (int i = 0; i < h.ctr[l].length; i++) {
                    h.ctr[l][i] = (float) (1.5 * r.nextGaussian());
                }
                for (int i = 0; i < h.reg[l].length; i++) {
                    h.reg[l][i] = (float) r.nextDouble(0, 60);
                }
            }
            List<ImageMeta> metas = List.of(new ImageMeta(500, 300, 320, 400));
            // IoU threshold 1 suppresses nothing and the cap exceeds the candidates, so every top-k member of
            // every level shows in the output: a bound that is too tight anywhere changes the result
            for (PostProcessConfig cfg : List.of(PostProcessConfig.defaults(c).withNmsPre(200),
                    PostProcessConfig.defaults(c).withNmsPre(200).withIouThreshold(1f).withMaxDetections(1000))) {
                try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg, List.of())) {
                    List<List<Detection>> expected = NaiveSpec.run(cfg, h, metas);
                    assertSame(expected, pp.process(h.build(), metas), cfg.toString());
                    if (cfg.maxDetections() == 1000 && c != Convention.MMDET) {
                        assertEquals(400, expected.get(0).size(), "all top-k candidates of both levels");
                    }
                }
            }
        }
    }

    @Test
    void concurrentCallsShareNothing() throws Exception {
        SplittableRandom r = new SplittableRandom(7);
        List<HeadTensors> inputs = new ArrayList<>();
        List<List<List<Detection>>> expected = new ArrayList<>();
        PostProcessConfig cfg = PostProcessConfig.defaults(Convention.MMDET).withNmsPre(50);
        try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg, List.of())) {
            for (int i = 0; i < 8; i++) {
                TestHeads h = randomHeads(r, 2, 3, i % 2 == 0 ? "dense" : "few");
                inputs.add(h.build());
                expected.add(NaiveSpec.run(cfg, h, metas(2)));
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int offset = t;
                    futures.add(pool.submit(() -> {
                        for (int rep = 0; rep < 50; rep++) {
                            int i = (rep + offset) % inputs.size();
                            assertSame(expected.get(i), pp.process(inputs.get(i), metas(2)), "thread " + offset);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void processIntoAllocatesNothingAtSteadyState() {
        java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        if (!(bean instanceof com.sun.management.ThreadMXBean sun) || !sun.isThreadAllocatedMemorySupported()) {
            org.junit.jupiter.api.Assumptions.abort("per-thread allocation counter not available on this JVM");
            return;
        }
        HeadTensors heads = randomHeads(new SplittableRandom(3), 2, 4, "dense").build();
        List<ImageMeta> metas = metas(2);
        DetectionArrays out = new DetectionArrays(2, 100);
        try (ReferencePostProcessor pp = new ReferencePostProcessor(PostProcessConfig.defaults(Convention.FCOS), List.of())) {
            for (int i = 0; i < 20; i++) {
                pp.processInto(heads, metas, out); // grows the scratch
            }
            long tid = Thread.currentThread().getId();
            long before = sun.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 200; i++) {
                pp.processInto(heads, metas, out);
            }
            long allocated = sun.getThreadAllocatedBytes(tid) - before;
            // 200 calls; allow a little for the counter itself and JIT/deopt bookkeeping
            assertTrue(allocated < 4096, "processInto allocated " + allocated + " bytes over 200 calls");
            assertTrue(out.count(0) > 0);
        }
    }
}
