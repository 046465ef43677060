package dev.fcos4j.eval;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hand-built cases. Each expectation is worked out in the comments from the reference's rules (greedy matching
 * in score order, 101-point interpolated precision, -1 where a setting has no non-crowd ground truth).
 * Stats order: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl.
 * A lone true positive has precision 1/(1 + eps) = 1 - 2^-52 in the reference, hence the 1e-12 tolerance.
 */
class CocoEvaluatorTest {
    private static final double TOL = 1e-12;
    // Area-field values inside each range.
    private static final double SMALL = 100, MEDIUM = 2000, LARGE = 20000;

    static CocoGroundTruth.Builder gtWithImages(long... images) {
        CocoGroundTruth.Builder b = CocoGroundTruth.builder("gt.json").category(1, "cat").category(2, "dog");
        for (long i : images) {
            b.image(i);
        }
        return b;
    }

    static CocoDetections results(String json) {
        return CocoDetections.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "results.json");
    }

    static void assertStats(double[] expected, CocoEvalResult r) {
        double[] s = r.stats();
        for (int i = 0; i < 12; i++) {
            assertEquals(expected[i], s[i], TOL, CocoEvalResult.STAT_NAMES.get(i) + " in " + java.util.Arrays.toString(s));
        }
    }

    @Test
    void perfectDetectionsScoreOne() {
        // One box per (image, category); sizes cover small, medium and large; detections equal the boxes.
        CocoGroundTruth gt = gtWithImages(1, 2, 3)
                .annotation(1, 1, 1, 10, 10, 10, 10, SMALL, false)
                .annotation(2, 1, 2, 50, 50, 200, 100, LARGE, false)
                .annotation(3, 2, 1, 0, 0, 40, 50, MEDIUM, false)
                .annotation(4, 3, 2, 5.5, 7.25, 3, 4, SMALL, false)
                .build();
        CocoDetections dt = CocoDetections.builder("dt")
                .add(1, 1, 10, 10, 10, 10, 0.9).add(1, 2, 50, 50, 200, 100, 0.3)
                .add(2, 1, 0, 0, 40, 50, 0.7).add(3, 2, 5.5, 7.25, 3, 4, 0.05).build();
        CocoEvalResult r = CocoEvaluator.evaluate(gt, dt);
        assertStats(new double[]{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, r);
        for (CocoClassAp c : r.perClassAp()) {
            assertEquals(1, c.ap(), TOL);
            assertEquals(2, c.groundTruthCount());
        }
    }

    @Test
    void emptyResultsScoreZeroWhereGroundTruthExists() {
        // Only a medium box of category 1: AP/AR 0 for "all" and "medium", -1 for small/large and for category 2.
        CocoGroundTruth gt = gtWithImages(1).annotation(1, 1, 1, 0, 0, 40, 50, MEDIUM, false).build();
        CocoEvalResult r = CocoEvaluator.evaluate(gt, results("[]"));
        assertStats(new double[]{0, 0, 0, -1, 0, -1, 0, 0, 0, -1, 0, -1}, r);
        assertEquals(0, r.perClassAp().get(0).ap(), 0.0);
        assertEquals(-1, r.perClassAp().get(1).ap(), 0.0);
        assertTrue(r.summary().contains(" Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000\n"), r.summary());
    }

    @Test
    void categoryWithoutGroundTruthIsUndefinedAndDoesNotAffectOthers() {
        // Category 2 has no ground truth: its higher-scored detections must not count against category 1.
        CocoGroundTruth gt = gtWithImages(1).annotation(1, 1, 1, 0, 0, 40, 50, MEDIUM, false).build();
        CocoDetections only1 = CocoDetections.builder("dt").add(1, 1, 0, 0, 40, 50, 0.5).build();
        CocoDetections with2 = CocoDetections.builder("dt").add(1, 2, 0, 0, 40, 50, 0.9)
                .add(1, 1, 0, 0, 40, 50, 0.5).add(1, 2, 100, 100, 10, 10, 0.8).build();
        double[] expected = {1, 1, 1, -1, 1, -1, 1, 1, 1, -1, 1, -1};
        assertStats(expected, CocoEvaluator.evaluate(gt, only1));
        CocoEvalResult r = CocoEvaluator.evaluate(gt, with2);
        assertStats(expected, r);
        CocoClassAp dog = r.perClassAp().get(1);
        assertEquals(2, dog.categoryId());
        assertEquals("dog", dog.name());
        assertEquals(0, dog.groundTruthCount());
        assertEquals(-1, dog.ap(), 0.0);
        assertTrue(!dog.defined());
        assertTrue(r.perClassTable().lines().anyMatch(l -> l.startsWith("dog") && l.endsWith("n/a")), r.perClassTable());
    }

    @Test
    void allCrowdGroundTruthLeavesEverythingUndefined() {
        CocoGroundTruth gt = gtWithImages(1)
                .annotation(1, 1, 1, 0, 0, 100, 100, LARGE, true)
                .annotation(2, 1, 2, 0, 0, 10, 10, SMALL, true).build();
        CocoDetections dt = CocoDetections.builder("dt").add(1, 1, 0, 0, 100, 100, 0.9).add(1, 2, 50, 50, 5, 5, 0.4).build();
        CocoEvalResult r = CocoEvaluator.evaluate(gt, dt);
        double[] minusOne = new double[12];
        java.util.Arrays.fill(minusOne, -1);
        assertArrayEquals(minusOne, r.stats(), 0.0);
        assertEquals(12, r.summary().lines().filter(l -> l.endsWith("] = -1.000")).count(), r.summary());
    }

    @Test
    void detectionsInsideCrowdAreIgnoredAndCrowdIsNeverUsedUp() {
        // Regular large box R at x=0 and a crowd region C at x=200. d1, d2 lie inside C: IoU with a crowd uses the
        // detection's own area as union (400/400 = 1), so both match C (a crowd can match many) and are ignored,
        // although they outscore the true positive d3. With the ordinary union they would be false positives
        // (IoU 400/10000) and AP would drop to 1/3.
        // AR1: the single top detection per image is d1 (ignored) -> recall 0.
        CocoGroundTruth gt = gtWithImages(1)
                .annotation(1, 1, 1, 0, 0, 100, 100, 10000, false)
                .annotation(2, 1, 1, 200, 0, 100, 100, 10000, true).build();
        CocoDetections dt = CocoDetections.builder("dt")
                .add(1, 1, 210, 10, 20, 20, 0.95).add(1, 1, 220, 20, 20, 20, 0.9).add(1, 1, 0, 0, 100, 100, 0.5).build();
        CocoEvalResult r = CocoEvaluator.evaluate(gt, dt);
        assertStats(new double[]{1, 1, 1, -1, -1, 1, 0, 1, 1, -1, -1, 1}, r);
        assertEquals(1, r.perClassAp().get(0).groundTruthCount());
    }

    @Test
    void matchToRegularBoxStopsBeforeIgnoredOnes() {
        // R (regular) and C (crowd) cover the same square; D covers its top 62%: IoU(D,R) = 0.62, IoU(D,C) = 1.
        // Regular boxes are tried first and, once D matched R, the ignored ones are not tried: D is a true
        // positive at IoU 0.50, 0.55, 0.60. From 0.65 on R fails and D matches the crowd -> ignored (recall 0,
        // precision 0). AP = AR = 3/10, AP50 = 1, AP75 = 0. R is large (area 10000).
        CocoGroundTruth gt = gtWithImages(1)
                .annotation(1, 1, 1, 0, 0, 100, 100, 10000, false)
                .annotation(2, 1, 1, 0, 0, 100, 100, 10000, true).build();
        CocoDetections dt = CocoDetections.builder("dt").add(1, 1, 0, 0, 100, 62, 0.9).build();
        assertStats(new double[]{0.3, 1, 0, -1, -1, 0.3, 0.3, 0.3, 0.3, -1, -1, 0.3}, CocoEvaluator.evaluate(gt, dt));
    }

    @Test
    void equalScoresAcrossImagesKeepImageOrder() {
        // Two images with one medium box each (npig = 2). Equal scores: a false positive on image 1 and a true
        // positive on image 2 (listed first in the file). The reference concatenates per-image lists in image-id
        // order and sorts stably, so the FP ranks first: precision [0, 1/2] -> envelope [1/2, 1/2], recall [0, 1/2]:
        // 51 of the 101 recall points (0.00 ... 0.50) get 1/2 -> AP = 25.5/101 at every IoU. (TP first would give
        // 51/101.) AR = 1/2.
        CocoGroundTruth gt = gtWithImages(1, 2)
                .annotation(1, 1, 1, 0, 0, 50, 50, 2500, false)
                .annotation(2, 2, 1, 0, 0, 50, 50, 2500, false).build();
        CocoDetections dt = results("[{\"image_id\":2,\"category_id\":1,\"bbox\":[0,0,50,50],\"score\":0.5},"
                + "{\"image_id\":1,\"category_id\":1,\"bbox\":[300,300,50,50],\"score\":0.5}]");
        double ap = 25.5 / 101;
        assertStats(new double[]{ap, ap, ap, -1, ap, -1, 0.5, 0.5, 0.5, -1, 0.5, -1}, CocoEvaluator.evaluate(gt, dt));
    }

    @Test
    void equalScoresInOneImageKeepFileOrder() {
        // One large box; A covers 62% of it (IoU 0.62), B 92% (IoU 0.92), same score, A first in the file.
        // IoU 0.50-0.60 (3 thresholds): A takes the box, B is FP -> precision 1. 0.65-0.90 (6): A is FP, B TP ->
        // envelope 1/2 everywhere -> 1/2. 0.95: both FP -> 0. AP = (3 + 3) / 10 = 0.6; AR100 = 9/10;
        // AR1 (only A): 3/10. With B first the answer is AP 0.9, AR1 0.9.
        // Large range: A (area 6200) and B (9200) are both below 96^2, so whichever is unmatched is ignored there:
        // precision 1 up to IoU 0.90, nothing at 0.95 -> APl = ARl = 0.9 in both orders.
        CocoGroundTruth gt = gtWithImages(1).annotation(1, 1, 1, 0, 0, 100, 100, 10000, false).build();
        CocoDetections aFirst = CocoDetections.builder("dt").add(1, 1, 0, 0, 100, 62, 0.5).add(1, 1, 0, 0, 100, 92, 0.5).build();
        CocoDetections bFirst = CocoDetections.builder("dt").add(1, 1, 0, 0, 100, 92, 0.5).add(1, 1, 0, 0, 100, 62, 0.5).build();
        assertStats(new double[]{0.6, 1, 0.5, -1, -1, 0.9, 0.3, 0.9, 0.9, -1, -1, 0.9}, CocoEvaluator.evaluate(gt, aFirst));
        assertStats(new double[]{0.9, 1, 1, -1, -1, 0.9, 0.9, 0.9, 0.9, -1, -1, 0.9}, CocoEvaluator.evaluate(gt, bFirst));
    }

    @Test
    void onlyTheTop100DetectionsPerImageAndCategoryCount() {
        // One large box and n small far-away false positives scored above the one true positive.
        // n = 99: the TP is the 100th -> precision 1/100 at recall 1 -> AP 0.01, AR100 1; in the large range the
        // small unmatched FPs are ignored -> APl = ARl = 1. n = 100: the TP is cut off -> everything 0.
        CocoGroundTruth gt = gtWithImages(1).annotation(1, 1, 1, 0, 0, 100, 100, 10000, false).build();
        assertStats(new double[]{0.01, 0.01, 0.01, -1, -1, 1, 0, 0, 1, -1, -1, 1}, CocoEvaluator.evaluate(gt, fpsThenTp(99)));
        assertStats(new double[]{0, 0, 0, -1, -1, 0, 0, 0, 0, -1, -1, 0}, CocoEvaluator.evaluate(gt, fpsThenTp(100)));
    }

    private static CocoDetections fpsThenTp(int n) {
        CocoDetections.Builder b = CocoDetections.builder("dt");
        for (int i = 0; i < n; i++) {
            b.add(1, 1, 500 + 20 * i, 500, 10, 10, 0.99 - i * 1e-4);
        }
        return b.add(1, 1, 0, 0, 100, 100, 0.01).build();
    }

    @Test
    void areaRangesUseTheAnnotationAreaAndIgnoreUnmatchedOutOfRangeDetections() {
        // The box is 10x10 but its area field says 5000 (medium). TP exact (score 0.8), FP far away (0.9, area 100).
        // all: [FP, TP] -> envelope 1/2 -> AP 0.5. medium: the FP (area 100) is unmatched and outside -> ignored,
        // the TP is matched -> kept -> APm 1. small: no ground truth in range -> -1. AR1: top-1 is the FP -> 0.
        CocoGroundTruth gt = gtWithImages(1).annotation(1, 1, 1, 0, 0, 10, 10, 5000, false).build();
        CocoDetections dt = CocoDetections.builder("dt").add(1, 1, 0, 0, 10, 10, 0.8).add(1, 1, 500, 500, 10, 10, 0.9).build();
        assertStats(new double[]{0.5, 0.5, 0.5, -1, 1, -1, 0, 1, 1, -1, 1, -1}, CocoEvaluator.evaluate(gt, dt));
    }

    @Test
    void areaRangeBoundsAreInclusive() {
        // area 1024 = 32^2 is both small and medium; 9216 = 96^2 is both medium and large.
        CocoGroundTruth gt = gtWithImages(1, 2)
                .annotation(1, 1, 1, 0, 0, 32, 32, 1024, false)
                .annotation(2, 2, 1, 0, 0, 96, 96, 9216, false).build();
        CocoDetections dt = CocoDetections.builder("dt").add(1, 1, 0, 0, 32, 32, 0.9).add(2, 1, 0, 0, 96, 96, 0.8).build();
        assertStats(new double[]{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, CocoEvaluator.evaluate(gt, dt));
    }

    @Test
    void detectionOnImageAbsentFromGroundTruthIsRejected() {
        CocoGroundTruth gt = gtWithImages(1).annotation(1, 1, 1, 0, 0, 10, 10, SMALL, false).build();
        CocoDetections dt = results("[{\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,10,10],\"score\":0.5},"
                + "{\"image_id\":7,\"category_id\":1,\"bbox\":[0,0,10,10],\"score\":0.5}]");
        CocoFormatException e = assertThrows(CocoFormatException.class, () -> CocoEvaluator.evaluate(gt, dt));
        assertTrue(e.getMessage().contains("results.json: record [1]") && e.getMessage().contains("image_id 7")
                && e.getMessage().contains("gt.json"), e.getMessage());
    }

    @Test
    void unknownCategoryIsIgnoredLikeTheReferenceOrRejectedOnRequest() {
        CocoGroundTruth gt = gtWithImages(1).annotation(1, 1, 1, 0, 0, 40, 50, MEDIUM, false).build();
        CocoDetections dt = CocoDetections.builder("dt").add(1, 99, 0, 0, 40, 50, 0.99).add(1, 1, 0, 0, 40, 50, 0.5).build();
        CocoEvalResult r = CocoEvaluator.evaluate(gt, dt);
        assertStats(new double[]{1, 1, 1, -1, 1, -1, 1, 1, 1, -1, 1, -1}, r);
        assertEquals(1, r.ignoredDetections());
        assertEquals(1, r.warnings().size());
        CocoFormatException e = assertThrows(CocoFormatException.class,
                () -> CocoEvaluator.evaluate(gt, dt, UnknownCategoryPolicy.REJECT));
        assertTrue(e.getMessage().contains("dt: record [0]") && e.getMessage().contains("category_id 99"), e.getMessage());
    }

    @Test
    void groundTruthOnUnlistedImageOrCategoryIsNotEvaluated() {
        // As the reference: only listed images and categories are evaluated. The stray annotations (image 5,
        // category 3) would otherwise be missed boxes and halve the recall.
        CocoGroundTruth gt = gtWithImages(1)
                .annotation(1, 1, 1, 0, 0, 40, 50, MEDIUM, false)
                .annotation(2, 5, 1, 0, 0, 40, 50, MEDIUM, false)
                .annotation(3, 1, 3, 0, 0, 40, 50, MEDIUM, false).build();
        assertEquals(2, gt.droppedAnnotations());
        CocoEvalResult r = CocoEvaluator.evaluate(gt, CocoDetections.builder("dt").add(1, 1, 0, 0, 40, 50, 0.5).build());
        assertStats(new double[]{1, 1, 1, -1, 1, -1, 1, 1, 1, -1, 1, -1}, r);
        assertEquals(2, r.droppedAnnotations());
    }

    @Test
    void matchToGroundTruthWithIdZeroCountsAsMissLikeTheReference() {
        // The reference stores the matched annotation id and tests it for non-zero, so a perfect match to an
        // annotation with id 0 is a false positive (and the box is used up). Reproduced, documented in EVAL.md.
        CocoGroundTruth gt = gtWithImages(1).annotation(0, 1, 1, 0, 0, 40, 50, MEDIUM, false).build();
        CocoEvalResult r = CocoEvaluator.evaluate(gt, CocoDetections.builder("dt").add(1, 1, 0, 0, 40, 50, 0.5).build());
        assertStats(new double[]{0, 0, 0, -1, 0, -1, 0, 0, 0, -1, 0, -1}, r);
    }

    @Test
    void summaryHasTheReferenceLayout() {
        CocoGroundTruth gt = gtWithImages(1).annotation(1, 1, 1, 0, 0, 100, 100, 10000, false).build();
        CocoDetections dt = CocoDetections.builder("dt").add(1, 1, 0, 0, 100, 62, 0.5).add(1, 1, 0, 0, 100, 92, 0.5).build();
        List<String> lines = CocoEvaluator.evaluate(gt, dt).summary().lines().toList();
        assertEquals(List.of(
                " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.600",
                " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000",
                " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.500",
                " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000",
                " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000",
                " Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.900",
                " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.300",
                " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.900",
                " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.900",
                " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000",
                " Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000",
                " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.900"), lines);
    }

    @Test
    void reportAsJsonCarriesStatsAndPerClassValues() throws Exception {
        CocoGroundTruth gt = gtWithImages(1).annotation(1, 1, 1, 0, 0, 100, 100, 10000, false).build();
        CocoDetections dt = CocoDetections.builder("dt").add(1, 1, 0, 0, 100, 62, 0.5).add(1, 1, 0, 0, 100, 92, 0.5)
                .add(1, 7, 0, 0, 1, 1, 0.1).build();
        CocoEvalResult r = CocoEvaluator.evaluate(gt, dt);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        r.writeJson(out);
        com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toByteArray());
        assertEquals(0.6, n.get("stats").get("AP").asDouble(), TOL);
        assertEquals(0.9, n.get("stats").get("ARl").asDouble(), TOL);
        assertEquals(-1, n.get("stats").get("APs").asDouble(), 0.0);
        assertEquals(List.copyOf(CocoEvalResult.STAT_NAMES), iterable(n.get("stats").fieldNames()));
        assertEquals(2, n.get("per_class").size());
        assertEquals("dog", n.get("per_class").get(1).get("name").asText());
        assertEquals(-1, n.get("per_class").get(1).get("ap").asDouble(), 0.0);
        assertEquals(1, n.get("per_class").get(0).get("ap50").asDouble(), TOL);
        assertEquals(1, n.get("ignored_detections").asInt());
        assertEquals(3, n.get("detections").asInt());
        assertEquals(0.6, r.statsByName().get("AP"), TOL);
        assertEquals(r.stat("AR100"), r.stats()[8], 0.0);
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> l = new java.util.ArrayList<>();
        it.forEachRemaining(l::add);
        return l;
    }

    @Test
    void scalesToAValSetSizedInput() {
        // 5000 images x 3 categories, one box each, plus one low-scored false positive per image and category.
        // All true positives outrank all false positives -> precision 1 up to recall 1: every stat 1 where defined.
        CocoGroundTruth.Builder b = CocoGroundTruth.builder("big").category(1, "a").category(2, "b").category(3, "c");
        CocoDetections.Builder d = CocoDetections.builder("big-dt");
        long id = 1;
        for (int img = 1; img <= 5000; img++) {
            b.image(img);
            for (int c = 1; c <= 3; c++) {
                double w = 40 + (img * 7 + c * 13) % 200, h = 40 + (img * 11 + c * 5) % 150; // area >= 1600: none small
                b.annotation(id++, img, c, img % 300, c * 10, w, h, w * h, false);
                d.add(img, c, img % 300, c * 10, w, h, 0.5 + (img % 97) / 400.0);
                d.add(img, c, 1000, 1000, 10, 10, 0.1 + (img % 89) / 1000.0);
            }
        }
        CocoEvalResult r = CocoEvaluator.evaluate(b.build(), d.build());
        assertEquals(30000, r.detectionCount());
        double[] s = r.stats();
        for (int i = 0; i < 12; i++) {
            if (i == 3) {
                assertEquals(-1, s[i], 0.0, "no box is small");
            } else if (i == 9) {
                assertEquals(-1, s[i], 0.0);
            } else if (i == 6) {
                assertEquals(1, s[i], TOL, "AR1: the TP is each cell's top detection");
            } else {
                assertEquals(1, s[i], TOL, CocoEvalResult.STAT_NAMES.get(i));
            }
        }
    }
}
