package dev.fcos4j.postprocess;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.Detection;
import dev.fcos4j.InvalidHeadOutputException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.memory.GcSupport;
import dev.fcos4j.preprocess.ImageMeta;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A batch shared by helper threads gives exactly what one thread gives, failures included. */
class ParallelBatchTest {
    /** A batch of random images over the cross-check's small levels, each image with its own geometry. */
    static TestHeads heads(SplittableRandom r, int batch) {
        TestHeads h = new TestHeads(batch, 5, TestHeads.level(8, 12, 10), TestHeads.level(16, 6, 5),
                TestHeads.level(32, 3, 3));
        for (int l = 0; l < 3; l++) {
            for (int i = 0; i < h.cls[l].length; i++) {
                h.cls[l][i] = r.nextInt(4) == 0 ? (float) r.nextDouble(-3, 4) : -9f;
            }
            for (int i = 0; i < h.ctr[l].length; i++) {
                h.ctr[l][i] = (float) r.nextDouble(-3, 3);
            }
            for (int i = 0; i < h.reg[l].length; i++) {
                h.reg[l][i] = (float) r.nextDouble(0, 40);
            }
        }
        return h;
    }

    static List<ImageMeta> metas(SplittableRandom r, int batch) {
        List<ImageMeta> out = new ArrayList<>();
        for (int n = 0; n < batch; n++) {
            out.add(new ImageMeta(40 + r.nextInt(200), 40 + r.nextInt(200), 60 + r.nextInt(36), 50 + r.nextInt(30)));
        }
        return out;
    }

    private static Set<Thread> helperThreads() {
        Set<Thread> out = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("fcos4j-postprocess-")) {
                out.add(t);
            }
        }
        return out;
    }

    @Test
    void sharedBatchesEqualOneThreadBitForBit() {
        SplittableRandom r = new SplittableRandom(77);
        for (Convention c : Convention.values()) {
            PostProcessConfig cfg = PostProcessConfig.defaults(c).withMaxDetections(20);
            try (ReferencePostProcessor one = new ReferencePostProcessor(cfg, List.of());
                 ReferencePostProcessor three = new ReferencePostProcessor(cfg, List.of(), 3)) {
                assertEquals(1, one.threads());
                assertEquals(3, three.threads());
                int detections = 0;
                for (int batch : new int[] {1, 2, 7, 16}) {
                    TestHeads h = heads(r, batch);
                    List<ImageMeta> m = metas(r, batch);
                    List<List<Detection>> expected = one.process(h.build(), m);
                    for (int repeat = 0; repeat < 5; repeat++) {
                        ReferenceCrossCheckTest.assertSame(expected, three.process(h.build(repeat % 2 == 0), m),
                                c + " batch " + batch + " repeat " + repeat);
                    }
                    for (List<Detection> d : expected) {
                        detections += d.size();
                    }
                }
                assertTrue(detections > 100, "degenerate inputs: " + detections + " detections");
                assertTrue(three.imagesOnHelperThreads() > 0, "the helpers took no image");
            }
        }
    }

    @Test
    void theFailureOfTheLowestImageIsThrownAsOneThreadWould() {
        SplittableRandom r = new SplittableRandom(78);
        PostProcessConfig cfg = PostProcessConfig.defaults(Convention.MMDET);
        TestHeads h = heads(r, 12);
        List<ImageMeta> m = metas(r, 12);
        h.cls(9, 0, 1, 2, 3, Float.NaN).cls(4, 1, 2, 1, 1, Float.NaN);
        try (ReferencePostProcessor one = new ReferencePostProcessor(cfg, List.of());
             ReferencePostProcessor four = new ReferencePostProcessor(cfg, List.of(), 4)) {
            String expected = assertThrows(InvalidHeadOutputException.class, () -> one.process(h.build(), m)).getMessage();
            for (int repeat = 0; repeat < 20; repeat++) {
                InvalidHeadOutputException e = assertThrows(InvalidHeadOutputException.class, () -> four.process(h.build(), m));
                assertEquals(expected, e.getMessage());
            }
            // and the helpers are still fine afterwards
            TestHeads good = heads(r, 6);
            List<ImageMeta> gm = metas(r, 6);
            ReferenceCrossCheckTest.assertSame(one.process(good.build(), gm), four.process(good.build(), gm), "after failures");
        }
    }

    @Test
    void concurrentCallersShareOneInstanceSafely() throws Exception {
        SplittableRandom r = new SplittableRandom(79);
        PostProcessConfig cfg = PostProcessConfig.defaults(Convention.TORCHVISION).withScoreThreshold(0.05f);
        List<HeadTensors> inputs = new ArrayList<>();
        List<List<ImageMeta>> metas = new ArrayList<>();
        List<List<List<Detection>>> expected = new ArrayList<>();
        try (ReferencePostProcessor one = new ReferencePostProcessor(cfg, List.of());
             ReferencePostProcessor shared = new ReferencePostProcessor(cfg, List.of(), 2)) {
            for (int i = 0; i < 6; i++) {
                TestHeads h = heads(r, 3 + i);
                inputs.add(h.build(true));
                metas.add(metas(r, 3 + i));
                expected.add(one.process(inputs.get(i), metas.get(i)));
            }
            ExecutorService callers = Executors.newFixedThreadPool(3);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    int offset = t;
                    done.add(callers.submit(() -> {
                        for (int k = 0; k < 60; k++) {
                            int i = (k + offset) % inputs.size();
                            ReferenceCrossCheckTest.assertSame(expected.get(i), shared.process(inputs.get(i), metas.get(i)),
                                    "caller " + offset + " call " + k);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(2, TimeUnit.MINUTES);
                }
            } finally {
                callers.shutdownNow();
            }
        }
    }

    @Test
    void closeStopsTheHelpersAndADroppedInstanceIsStoppedForUs() throws Exception {
        Set<Thread> before = helperThreads();
        ReferencePostProcessor p = new ReferencePostProcessor(PostProcessConfig.defaults(Convention.MMDET), List.of(), 3);
        Set<Thread> mine = helperThreads();
        mine.removeAll(before);
        assertEquals(2, mine.size(), "two helpers besides the caller");
        p.close();
        p.close();
        for (Thread t : mine) {
            t.join(TimeUnit.MINUTES.toMillis(1));
            assertFalse(t.isAlive(), t.getName() + " still running after close");
        }
        Set<Thread> dropped = dropUnclosed();
        GcSupport.collectUntil("the dropped post-processor's helpers were stopped",
                () -> dropped.stream().noneMatch(Thread::isAlive));
        assertThrows(ConfigurationException.class,
                () -> new ReferencePostProcessor(PostProcessConfig.defaults(Convention.MMDET), List.of(), 0));
    }

    private static Set<Thread> dropUnclosed() {
        Set<Thread> before = helperThreads();
        ReferencePostProcessor p = new ReferencePostProcessor(PostProcessConfig.defaults(Convention.FCOS), List.of(), 2);
        SplittableRandom r = new SplittableRandom(80);
        assertEquals(4, p.process(heads(r, 4).build(), metas(r, 4)).size());
        Set<Thread> mine = helperThreads();
        mine.removeAll(before);
        assertEquals(1, mine.size());
        return mine;
    }
}
