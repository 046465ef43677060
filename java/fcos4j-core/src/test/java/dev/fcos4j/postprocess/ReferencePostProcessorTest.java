package dev.fcos4j.postprocess;

import dev.fcos4j.Detection;
import dev.fcos4j.InvalidHeadOutputException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.ResourceClosedException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.preprocess.ImageMeta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static dev.fcos4j.postprocess.TestHeads.level;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Planted objects with hand-computed expectations. Geometry used throughout: a 32x32 padded input, level 0
 * stride 8 (4x4 points), level 1 stride 16 (2x2), 3 classes. Point (x, y) of level 0 sits at
 * mmdet ((x+0.5)*8, (y+0.5)*8), fcos (8x+4, 8y+4), torchvision (8x, 8y). Logit 0 has probability exactly 0.5.
 */
class ReferencePostProcessorTest {
    private static final ImageMeta UNSCALED = ImageMeta.unscaled(32, 32);

    private static TestHeads heads() {
        return new TestHeads(1, 3, level(8, 4, 4), level(16, 2, 2));
    }

    private static List<Detection> run(PostProcessConfig cfg, TestHeads h, ImageMeta meta) {
        try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg, List.of())) {
            List<List<Detection>> out = pp.process(h.build(), List.of(meta));
            assertEquals(1, out.size());
            return out.get(0);
        }
    }

    private static PostProcessConfig cfg(Convention c) {
        return PostProcessConfig.defaults(c);
    }

    static void assertDet(Detection d, float x1, float y1, float x2, float y2, float score, int cls) {
        String msg = "got " + d;
        assertTrue(d.x1() == x1 && d.y1() == y1 && d.x2() == x2 && d.y2() == y2, msg + " expected box "
                + x1 + "," + y1 + "," + x2 + "," + y2);
        assertTrue(d.score() == score, msg + " expected score " + score);
        assertEquals(cls, d.classId(), msg);
    }

    // ------------------------------------------------------------------------------------------ single object

    @Test
    void mmdetSingleObjectDecodesAroundHalfOffsetPoint() {
        TestHeads h = heads().cls(0, 0, 1, 1, 2, 0f).reg(0, 0, 1, 2, 3, 4, 5, 6);
        List<Detection> d = run(cfg(Convention.MMDET), h, UNSCALED);
        assertEquals(1, d.size());
        // point (20, 12); score = 0.5 * 0.5 (no sqrt)
        assertDet(d.get(0), 17, 8, 25, 18, 0.25f, 1);
        assertEquals("class_1", d.get(0).label());
    }

    @Test
    void fcosSingleObjectUsesIntegerHalfStrideAndSqrtScore() {
        TestHeads h = heads().cls(0, 0, 1, 1, 2, 0f).reg(0, 0, 1, 2, 3, 4, 5, 6);
        List<Detection> d = run(cfg(Convention.FCOS), h, UNSCALED);
        assertEquals(1, d.size());
        assertDet(d.get(0), 17, 8, 25, 18, 0.5f, 1); // point (2*8+4, 1*8+4), sqrt(0.25)
    }

    @Test
    void torchvisionSingleObjectUsesZeroOffsetPoint() {
        TestHeads h = heads().cls(0, 0, 1, 1, 2, 0f).reg(0, 0, 1, 2, 3, 4, 5, 6);
        List<Detection> d = run(cfg(Convention.TORCHVISION), h, UNSCALED);
        assertEquals(1, d.size());
        assertDet(d.get(0), 13, 4, 21, 14, 0.5f, 1); // point (16, 8)
    }

    @Test
    void labelsComeFromClassNames() {
        TestHeads h = heads().cls(0, 1, 2, 1, 0, 0f).reg(0, 1, 1, 0, 1, 1, 1, 1);
        try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg(Convention.MMDET), List.of("a", "b", "c"))) {
            Detection d = pp.process(h.build(), List.of(UNSCALED)).get(0).get(0);
            assertEquals("c", d.label());
            assertDet(d, 7, 23, 9, 25, 0.25f, 2); // level 1 point (0, 1) -> (8, 24)
        }
    }

    // ------------------------------------------------------------------------------------------- thresholds

    @Test
    void mmdetThresholdIsStrictOnClassProbability() {
        // probability exactly 0.5 is not > 0.5; logit 1e-6 gives 0.50000024f which is
        TestHeads h = heads().cls(0, 0, 0, 0, 0, 0f).reg(0, 0, 0, 0, 1, 1, 1, 1)
                .cls(0, 0, 1, 3, 3, 1e-6f).reg(0, 0, 3, 3, 1, 1, 1, 1);
        List<Detection> d = run(cfg(Convention.MMDET).withScoreThreshold(0.5f), h, UNSCALED);
        assertEquals(1, d.size());
        assertEquals(1, d.get(0).classId());
        assertEquals(27f, d.get(0).x1());
    }

    @Test
    void fcosThresholdIgnoresCenterness() {
        // class probability 0.5 is not > 0.5 even with centerness 1
        TestHeads h = heads().cls(0, 0, 0, 0, 0, 0f).ctr(0, 0, 0, 0, 40f).reg(0, 0, 0, 0, 1, 1, 1, 1);
        assertTrue(run(cfg(Convention.FCOS).withScoreThreshold(0.5f), h, UNSCALED).isEmpty());
        // 0.05 threshold: a weak centerness does not remove it, only lowers the score: sqrt(0.5 * 0.5)
        assertEquals(1, run(cfg(Convention.FCOS), h.ctr(0, 0, 0, 0, 0f), UNSCALED).size());
    }

    @Test
    void torchvisionThresholdIsStrictOnSqrtScore() {
        // sqrt(0.5 * 0.5) = 0.5 exactly: not > 0.5
        TestHeads h = heads().cls(0, 0, 0, 0, 0, 0f).reg(0, 0, 0, 0, 1, 1, 1, 1);
        assertTrue(run(cfg(Convention.TORCHVISION).withScoreThreshold(0.5f), h, UNSCALED).isEmpty());
        // centerness logit 40 -> probability 1.0f: sqrt(0.5) = 0.70710677f > 0.5
        h.ctr(0, 0, 0, 0, 40f);
        List<Detection> d = run(cfg(Convention.TORCHVISION).withScoreThreshold(0.5f), h, UNSCALED);
        assertEquals(1, d.size());
        assertEquals(0.70710677f, d.get(0).score());
        // a class probability of 0.5 with centerness ~0.0025 scores ~0.035: under torchvision's 0.2
        h.ctr(0, 0, 0, 0, -6f);
        assertTrue(run(cfg(Convention.TORCHVISION), h, UNSCALED).isEmpty());
    }

    @Test
    void negativeInfinityLogitIsProbabilityZero() {
        TestHeads h = heads().cls(0, 0, 2, 1, 1, Float.NEGATIVE_INFINITY);
        for (Convention c : Convention.values()) {
            assertTrue(run(cfg(c).withScoreThreshold(0f), h, UNSCALED).stream()
                    .noneMatch(d -> d.classId() == 2 && d.score() == 0f), c.id());
        }
    }

    // --------------------------------------------------------------------------------- clamping and rescale

    /** Resized 30 (w) x 20 (h) inside the 32x32 input, original 90 x 40: factors 3 (x) and 2 (y). */
    private static final ImageMeta SCALED = new ImageMeta(40, 90, 20, 30);

    @Test
    void mmdetClampsToResizedSizeThenRescalesPerAxis() {
        TestHeads h = heads()
                .cls(0, 0, 1, 1, 2, 0f).reg(0, 0, 1, 2, 25, 20, 30, 30) // point (20,12): (-5,-8,50,42)
                .cls(0, 0, 2, 0, 0, 0f).reg(0, 0, 0, 0, 1, 2, 3, 1);    // point (4,4): (3,2,7,5)
        List<Detection> d = run(cfg(Convention.MMDET), h, SCALED);
        assertEquals(2, d.size());
        // equal scores: the lower flat index (p=0,c=2 -> 2) comes before (p=6,c=1 -> 19)
        assertDet(d.get(0), 9, 4, 21, 10, 0.25f, 2);
        assertDet(d.get(1), 0, 0, 90, 40, 0.25f, 1); // clamped to (0,0,30,20) then x3, x2
    }

    @Test
    void fcosClampsToSizeMinusOneAndRescalesAfterNms() {
        TestHeads h = heads()
                .cls(0, 0, 1, 1, 2, 0f).reg(0, 0, 1, 2, 25, 20, 30, 30)
                .cls(0, 0, 2, 0, 0, 0f).reg(0, 0, 0, 0, 1, 2, 3, 1);
        List<Detection> d = run(cfg(Convention.FCOS), h, SCALED);
        assertEquals(2, d.size());
        assertDet(d.get(0), 9, 4, 21, 10, 0.5f, 2);
        assertDet(d.get(1), 0, 0, 87, 38, 0.5f, 1); // clamped to (0,0,29,19) then x3, x2
    }

    @Test
    void torchvisionClampsToResizedSizeAndRescales() {
        TestHeads h = heads()
                .cls(0, 0, 1, 1, 2, 0f).reg(0, 0, 1, 2, 25, 20, 30, 30) // point (16,8): (-9,-12,46,38)
                .cls(0, 0, 2, 0, 0, 0f).reg(0, 0, 0, 0, 1, 2, 3, 1);    // point (0,0): (-1,-2,3,1)
        List<Detection> d = run(cfg(Convention.TORCHVISION), h, SCALED);
        assertEquals(2, d.size());
        assertDet(d.get(0), 0, 0, 9, 2, 0.5f, 2);
        assertDet(d.get(1), 0, 0, 90, 40, 0.5f, 1);
    }

    @Test
    void mmdetDropsEmptyBoxesOthersKeepThem() {
        ImageMeta narrow = ImageMeta.unscaled(32, 16); // resized width 16: level-0 column 3 lies in the padding
        TestHeads h = heads().cls(0, 0, 0, 0, 3, 0f).reg(0, 0, 0, 3, 1, 1, 1, 1) // x range clamps to [16,16]
                .cls(0, 0, 1, 2, 0, 0f).reg(0, 0, 2, 0, 0, 1, 0, 1);              // zero width by itself
        assertTrue(run(cfg(Convention.MMDET), h, narrow).isEmpty());
        List<Detection> f = run(cfg(Convention.FCOS), h, narrow);
        assertEquals(2, f.size());
        // equal scores: flat 3*3+0 = 9 before 8*3+1 = 25
        assertDet(f.get(0), 15, 3, 15, 5, 0.5f, 0);  // (27,3,29,5) clamped to x <= 15
        assertDet(f.get(1), 4, 19, 4, 21, 0.5f, 1);
        List<Detection> t = run(cfg(Convention.TORCHVISION), h, narrow);
        assertEquals(2, t.size());
        assertDet(t.get(0), 16, 0, 16, 1, 0.5f, 0);  // point (24,0): (23,-1,25,1) clamped
        assertDet(t.get(1), 0, 15, 0, 17, 0.5f, 1);  // point (0,16)
    }

    // -------------------------------------------------------------------------------------------------- NMS
    // A = (4,4,20,20) (area 256), B = (4,4,20,12) (area 128): IoU 128/256 = 0.5 exactly without +1,
    // and (17*9)/(17*17 + 17*9 - 17*9) = 153/289 = 0.529 with the +1 convention. A scores higher.

    private static TestHeads overlapping(Convention c, int classOfB) {
        TestHeads h = heads();
        if (c == Convention.TORCHVISION) {
            h.cls(0, 0, 0, 2, 2, 2f).reg(0, 0, 2, 2, 12, 12, 4, 4)          // point (16,16)
                    .cls(0, 0, classOfB, 1, 1, 1f).reg(0, 0, 1, 1, 4, 4, 12, 4); // point (8,8)
        } else {
            h.cls(0, 0, 0, 2, 2, 2f).reg(0, 0, 2, 2, 16, 16, 0, 0)          // point (20,20)
                    .cls(0, 0, classOfB, 1, 1, 1f).reg(0, 0, 1, 1, 8, 8, 8, 0); // point (12,12)
        }
        return h;
    }

    @Test
    void nmsKeepsIouExactlyAtThreshold() {
        List<Detection> d = run(cfg(Convention.MMDET).withIouThreshold(0.5f), overlapping(Convention.MMDET, 0), UNSCALED);
        assertEquals(2, d.size());
        assertDet(d.get(1), 4, 4, 20, 12, d.get(1).score(), 0);
        assertEquals(2, run(cfg(Convention.TORCHVISION).withIouThreshold(0.5f),
                overlapping(Convention.TORCHVISION, 0), UNSCALED).size());
    }

    @Test
    void torchvisionSuppressesAnIouOfExactlyTheFloatThresholdAsItsDoubleCompareDoes() {
        // A = [8,8,18,18], B = [8,8,18,14]: IoU 60/100 = 0.6f = 0.6000000238 > 0.6 (torchvision's double).
        TestHeads h = heads().cls(0, 0, 0, 1, 1, 3f).reg(0, 0, 1, 1, 0, 0, 10, 10)   // point (8,8)
                .cls(0, 0, 0, 1, 2, 2f).reg(0, 0, 1, 2, 8, 0, 2, 6);                   // y 1, x 2: point (16,8)
        List<Detection> at06 = run(cfg(Convention.TORCHVISION).withIouThreshold(0.6f), h, UNSCALED);
        assertEquals(1, at06.size(), () -> "torchvision: iou 0.6f > 0.6 suppresses: " + at06);
        assertDet(at06.get(0), 8, 8, 18, 18, at06.get(0).score(), 0);
        assertEquals(2, run(cfg(Convention.TORCHVISION).withIouThreshold(0.61f), h, UNSCALED).size());
        assertEquals(Math.nextDown(0.6f), cfg(Convention.TORCHVISION).withIouThreshold(0.6f).nmsIouThreshold());
        assertEquals(0.7f, cfg(Convention.TORCHVISION).withIouThreshold(0.7f).nmsIouThreshold(), "0.7f < 0.7");
        assertEquals(0.5f, cfg(Convention.TORCHVISION).withIouThreshold(0.5f).nmsIouThreshold(), "exact");
        assertEquals(0.6f, cfg(Convention.MMDET).withIouThreshold(0.6f).nmsIouThreshold(), "mmcv compares floats");
    }

    @Test
    void nmsSuppressesSameClassOnly() {
        List<Detection> same = run(cfg(Convention.MMDET).withIouThreshold(0.49f), overlapping(Convention.MMDET, 0), UNSCALED);
        assertEquals(1, same.size());
        assertDet(same.get(0), 4, 4, 20, 20, sigmoidTimesHalf(2f), 0);
        List<Detection> other = run(cfg(Convention.MMDET).withIouThreshold(0.49f), overlapping(Convention.MMDET, 1), UNSCALED);
        assertEquals(2, other.size());
        assertEquals(1, other.get(1).classId());
    }

    private static float sigmoidTimesHalf(float logit) {
        return (float) (1.0 / (1.0 + Math.exp(-(double) logit))) * 0.5f;
    }

    @Test
    void fcosNmsUsesPlusOneAreas() {
        // 0.529 > 0.52 with +1 (fcos) but 0.5 <= 0.52 without (torchvision)
        assertEquals(1, run(cfg(Convention.FCOS).withIouThreshold(0.52f), overlapping(Convention.FCOS, 0), UNSCALED).size());
        assertEquals(2, run(cfg(Convention.FCOS).withIouThreshold(0.53f), overlapping(Convention.FCOS, 0), UNSCALED).size());
        assertEquals(2, run(cfg(Convention.TORCHVISION).withIouThreshold(0.52f),
                overlapping(Convention.TORCHVISION, 0), UNSCALED).size());
    }

    @Test
    void nmsSuppressedBoxDoesNotSuppressOthers() {
        // A (best) suppresses B; C overlaps B heavily but not A: C must survive (greedy against KEPT boxes only)
        TestHeads h = heads()
                .cls(0, 0, 0, 0, 0, 3f).reg(0, 0, 0, 0, 4, 4, 4, 4)   // point (4,4): A (0,0,8,8)
                .cls(0, 0, 0, 0, 1, 2f).reg(0, 0, 0, 1, 8, 4, 2, 4)   // point (12,4): B (4,0,14,8)
                .cls(0, 0, 0, 0, 2, 1f).reg(0, 0, 0, 2, 12, 4, 0, 4); // point (20,4): C (8,0,20,8)
        // IoU(A,B) = 32/(64+80-32) = 0.2857; IoU(A,C) = 0; IoU(B,C) = 48/(80+96-48) = 0.375
        List<Detection> d = run(cfg(Convention.MMDET).withIouThreshold(0.25f), h, UNSCALED);
        assertEquals(2, d.size());
        assertDet(d.get(0), 0, 0, 8, 8, sigmoidTimesHalf(3f), 0);
        assertDet(d.get(1), 8, 0, 20, 8, sigmoidTimesHalf(1f), 0);
    }

    // -------------------------------------------------------------------------------------- ties and caps

    /** Equal logits at level 0 (c=0,p=5), (c=2,p=3), (c=1,p=3) and level 1 (c=0,p=0); unit boxes. */
    private static TestHeads ties() {
        return heads().cls(0, 0, 0, 1, 1, 0f).reg(0, 0, 1, 1, 1, 1, 1, 1)   // flat 15, box (11,11,13,13)
                .cls(0, 0, 2, 0, 3, 0f).cls(0, 0, 1, 0, 3, 0f).reg(0, 0, 0, 3, 1, 1, 1, 1) // flats 11, 10: (27,3,29,5)
                .cls(0, 1, 0, 0, 0, 0f).reg(0, 1, 0, 0, 1, 1, 1, 1);             // level 1: (7,7,9,9)
    }

    @Test
    void tiesKeepFlatIndexThenLevelOrder() {
        List<Detection> d = run(cfg(Convention.MMDET), ties(), UNSCALED);
        assertEquals(4, d.size());
        assertDet(d.get(0), 27, 3, 29, 5, 0.25f, 1);
        assertDet(d.get(1), 27, 3, 29, 5, 0.25f, 2);
        assertDet(d.get(2), 11, 11, 13, 13, 0.25f, 0);
        assertDet(d.get(3), 7, 7, 9, 9, 0.25f, 0);
    }

    @Test
    void nmsPreCapsEachLevelAndBreaksTiesByFlatIndex() {
        List<Detection> d = run(cfg(Convention.MMDET).withNmsPre(2), ties(), UNSCALED);
        assertEquals(3, d.size());
        assertEquals(1, d.get(0).classId());
        assertEquals(2, d.get(1).classId());
        assertDet(d.get(2), 7, 7, 9, 9, 0.25f, 0); // level 1's own top-2 is unaffected
    }

    @Test
    void nmsPreKeepsHighestPerLevel() {
        TestHeads h = heads()
                .cls(0, 0, 0, 0, 0, 1f).reg(0, 0, 0, 0, 1, 1, 1, 1)
                .cls(0, 0, 1, 2, 2, 3f).reg(0, 0, 2, 2, 1, 1, 1, 1)
                .cls(0, 0, 2, 3, 1, 2f).reg(0, 0, 3, 1, 1, 1, 1, 1)
                .cls(0, 1, 0, 1, 1, 0.5f).reg(0, 1, 1, 1, 1, 1, 1, 1);
        for (Convention c : Convention.values()) {
            List<Detection> d = run(cfg(c).withNmsPre(2), h, UNSCALED);
            assertEquals(3, d.size(), c.id());
            assertEquals(List.of(1, 2, 0), d.stream().map(Detection::classId).toList(), c.id());
            assertTrue(d.stream().noneMatch(x -> x.classId() == 0 && x.x2() < 16), c.id() + ": logit 1 at level 0 was capped");
        }
    }

    @Test
    void barelyBetterKeyFromAWeakCenternessStillEntersAFullHeap() {
        // nms_pre 1: class 0 at (0,0) fills the heap with key 1.0 * 0.5 (centerness logit 0); class 1 at (3,3) has
        // the same class probability 1.0f and centerness 0.50000024f (logit 1e-6): its key is larger by one ulp
        // and must replace the first, although its centerness is barely above the heap's worst key
        TestHeads h = heads().cls(0, 0, 0, 0, 0, 40f).reg(0, 0, 0, 0, 1, 1, 1, 1)
                .cls(0, 0, 1, 3, 3, 40f).ctr(0, 0, 3, 3, 1e-6f).reg(0, 0, 3, 3, 1, 1, 1, 1);
        float weakCtr = (float) (1.0 / (1.0 + Math.exp(-1e-6)));
        assertTrue(weakCtr > 0.5f);
        List<Detection> f = run(cfg(Convention.FCOS).withNmsPre(1), h, UNSCALED);
        assertEquals(1, f.size());
        assertDet(f.get(0), 27, 27, 29, 29, (float) Math.sqrt(weakCtr), 1);
        List<Detection> t = run(cfg(Convention.TORCHVISION).withNmsPre(1), h, UNSCALED);
        assertEquals(1, t.size());
        assertDet(t.get(0), 23, 23, 25, 25, (float) Math.sqrt(weakCtr), 1);
    }

    @Test
    void maxDetectionsCapsAfterNms() {
        TestHeads h = heads();
        float[] logits = {0.5f, 2.5f, 1.5f, 3.5f, -0.5f};
        for (int i = 0; i < logits.length; i++) {
            h.cls(0, 0, i % 3, i / 4, i % 4, logits[i]).reg(0, 0, i / 4, i % 4, 1, 1, 1, 1);
        }
        List<Detection> d = run(cfg(Convention.TORCHVISION).withMaxDetections(3), h, UNSCALED);
        assertEquals(3, d.size());
        // the three highest logits, in score order: 3.5 (i=3), 2.5 (i=1), 1.5 (i=2)
        assertEquals(List.of(0, 1, 2), d.stream().map(Detection::classId).toList());
        assertEquals(23f, d.get(0).x1()); // i=3: point (24,0) -> x1 23
        assertTrue(d.get(0).score() > d.get(1).score() && d.get(1).score() > d.get(2).score());
    }

    // --------------------------------------------------------------------------------------------- batches

    @Test
    void batchOfDifferentlySizedImages() {
        TestHeads h = new TestHeads(2, 3, level(8, 4, 4), level(16, 2, 2));
        h.cls(0, 0, 0, 0, 0, 0f).reg(0, 0, 0, 0, 1, 1, 1, 1);   // image 0: (3,3,5,5)
        h.cls(1, 0, 2, 0, 1, 0f).reg(1, 0, 0, 1, 2, 2, 2, 2);   // image 1: point (12,4) -> (10,2,14,6)
        List<ImageMeta> metas = List.of(UNSCALED, new ImageMeta(32, 48, 16, 24)); // image 1 resized by 0.5
        try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg(Convention.MMDET), List.of())) {
            List<List<Detection>> out = pp.process(h.build(), metas);
            assertEquals(2, out.size());
            assertEquals(1, out.get(0).size());
            assertDet(out.get(0).get(0), 3, 3, 5, 5, 0.25f, 0);
            assertEquals(1, out.get(1).size());
            assertDet(out.get(1).get(0), 20, 4, 28, 12, 0.25f, 2);
        }
    }

    @ParameterizedTest
    @EnumSource(Convention.class)
    void emptyOutputWhenNothingPassesAndBuffersMayBeDirect(Convention c) {
        try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg(c), List.of())) {
            List<List<Detection>> out = pp.process(new TestHeads(2, 3, level(8, 4, 4)).build(true),
                    List.of(UNSCALED, UNSCALED));
            assertEquals(List.of(List.of(), List.of()), out);
            TestHeads h = heads().cls(0, 1, 1, 1, 0, 0f).reg(0, 1, 1, 0, 1, 1, 1, 1);
            assertEquals(pp.process(h.build(false), List.of(UNSCALED)), pp.process(h.build(true), List.of(UNSCALED)));
        }
    }

    // ------------------------------------------------------------------------------------ non-finite input

    @Test
    void nanOrPositiveInfinityInClsIsAnErrorNamingThePosition() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            for (Convention c : Convention.values()) {
                TestHeads h = new TestHeads(2, 3, level(8, 4, 4), level(16, 2, 2));
                h.cls(1, 1, 2, 0, 1, bad);
                try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg(c), List.of())) {
                    InvalidHeadOutputException e = assertThrows(InvalidHeadOutputException.class,
                            () -> pp.process(h.build(), List.of(UNSCALED, UNSCALED)));
                    String m = e.getMessage();
                    assertTrue(m.contains("cls_1") && m.contains("image 1") && m.contains("channel 2")
                            && m.contains("y 0") && m.contains("x 1"), m);
                }
            }
        }
    }

    @Test
    void nanInClsIsFoundEvenAfterTheTopKBoundRose() {
        // nms_pre 1 fills the heap at once with a high logit; the NaN comes later in scan order
        TestHeads h = heads().cls(0, 0, 0, 0, 0, 10f).cls(0, 0, 2, 3, 3, Float.NaN);
        try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg(Convention.MMDET).withNmsPre(1), List.of())) {
            assertThrows(InvalidHeadOutputException.class, () -> pp.process(h.build(), List.of(UNSCALED)));
        }
    }

    @Test
    void nonFiniteDistanceAtSelectedCandidateIsAnError() {
        TestHeads h = heads().cls(0, 0, 1, 2, 3, 0f).reg(0, 0, 2, 3, 1, Float.POSITIVE_INFINITY, 1, 1);
        try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg(Convention.FCOS), List.of())) {
            String m = assertThrows(InvalidHeadOutputException.class, () -> pp.process(h.build(), List.of(UNSCALED)))
                    .getMessage();
            assertTrue(m.contains("reg_0") && m.contains("channel 1") && m.contains("y 2") && m.contains("x 3"), m);
        }
        // distances of points without a selected candidate are never read
        TestHeads quiet = heads().reg(0, 0, 0, 0, Float.NaN, Float.NaN, Float.NaN, Float.NaN);
        assertTrue(run(cfg(Convention.MMDET), quiet, UNSCALED).isEmpty());
    }

    @Test
    void nonFiniteCenternessIsAnError() {
        TestHeads h = heads().ctr(0, 1, 1, 0, Float.NEGATIVE_INFINITY);
        for (Convention c : Convention.values()) {
            try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg(c), List.of())) {
                String m = assertThrows(InvalidHeadOutputException.class, () -> pp.process(h.build(), List.of(UNSCALED)))
                        .getMessage();
                assertTrue(m.contains("ctr_1") && m.contains("y 1") && m.contains("x 0"), m);
            }
        }
    }

    // ---------------------------------------------------------------------------------------- validation

    @Test
    void validatesArgumentsAndLifecycle() {
        HeadTensors t = heads().build();
        ReferencePostProcessor pp = new ReferencePostProcessor(cfg(Convention.MMDET), List.of());
        assertThrows(IllegalArgumentException.class, () -> pp.process(t, List.of()));
        assertThrows(IllegalArgumentException.class, () -> pp.process(t, List.of(UNSCALED, UNSCALED)));
        assertThrows(IllegalArgumentException.class, () -> pp.processInto(t, List.of(UNSCALED), new DetectionArrays(1, 99)));
        ReferencePostProcessor named = new ReferencePostProcessor(cfg(Convention.MMDET), List.of("only", "two"));
        String m = assertThrows(ModelContractException.class, () -> named.process(t, List.of(UNSCALED))).getMessage();
        assertTrue(m.contains("3 classes") && m.contains("2 class names"), m);
        pp.close();
        pp.close(); // idempotent
        assertThrows(ResourceClosedException.class, () -> pp.process(t, List.of(UNSCALED)));
        assertThrows(ResourceClosedException.class, () -> pp.processInto(t, List.of(UNSCALED), new DetectionArrays(1, 100)));
    }

    @Test
    void processIntoFillsCallerArraysLikeTheListApi() {
        TestHeads h = new TestHeads(2, 3, level(8, 4, 4), level(16, 2, 2));
        h.cls(0, 0, 0, 0, 0, 0f).reg(0, 0, 0, 0, 1, 1, 1, 1);
        h.cls(1, 0, 2, 0, 1, 0f).reg(1, 0, 0, 1, 2, 2, 2, 2);
        h.cls(1, 1, 1, 1, 1, 1f).reg(1, 1, 1, 1, 2, 2, 2, 2);
        List<ImageMeta> metas = List.of(UNSCALED, UNSCALED);
        DetectionArrays out = new DetectionArrays(3, 100);
        try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg(Convention.MMDET), List.of())) {
            pp.processInto(h.build(), metas, out);
            List<List<Detection>> lists = pp.process(h.build(), metas);
            for (int n = 0; n < 2; n++) {
                assertEquals(lists.get(n).size(), out.count(n));
                for (int i = 0; i < out.count(n); i++) {
                    Detection d = lists.get(n).get(i);
                    assertDet(d, out.x1(n, i), out.y1(n, i), out.x2(n, i), out.y2(n, i), out.score(n, i), out.classId(n, i));
                }
            }
            assertEquals(2, out.count(1));
            assertEquals(1, out.classId(1, 0)); // logit 1 beats logit 0
            assertDet(lists.get(1).get(0), 22, 22, 26, 26, sigmoidTimesHalf(1f), 1); // level 1 point (24,24)
            assertThrows(IndexOutOfBoundsException.class, () -> out.score(0, 1));
            assertFalse(out.count(2) != 0);
        }
    }
}
