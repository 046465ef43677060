package dev.fcos4j.eval;

import dev.fcos4j.Detection;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DetectionAgreementTest {
    private static Detection d(float x1, float y1, float x2, float y2, float score, int cls) {
        return new Detection(x1, y1, x2, y2, score, cls, "c" + cls);
    }

    private static final List<Detection> IMAGE_A = List.of(d(10, 10, 50, 50, 0.9f, 0), d(60, 60, 100, 120, 0.8f, 1));
    private static final List<Detection> IMAGE_B = List.of(d(0, 0, 20, 30, 0.7f, 2));

    @Test
    void identicalDetectionsAgreeFully() {
        DetectionAgreement.Report r = DetectionAgreement.compare(List.of(IMAGE_A, IMAGE_B), List.of(IMAGE_A, IMAGE_B), 0.5);
        assertEquals(3, r.referenceCount());
        assertEquals(3, r.matched());
        assertEquals(0, r.missing());
        assertEquals(0, r.extra());
        assertEquals(0.0, r.maxBoxDeviation());
        assertEquals(0.0, r.maxScoreDeviation());
        assertEquals(1.0, r.apVsReference(), 1e-12);
        assertEquals(-1, r.worstImage());
        assertTrue(DetectionAgreement.Tolerances.defaults().violations(r).isEmpty());
    }

    @Test
    void measuresDeviationsOfMatchedPairs() {
        // box of the first detection moved by 1.5 px on x2, score lowered by 0.01
        List<Detection> cand = List.of(d(10, 10, 51.5f, 50, 0.89f, 0), d(60, 60, 100, 120, 0.8f, 1));
        DetectionAgreement.Report r = DetectionAgreement.compare(List.of(IMAGE_A), List.of(cand), 0.5);
        assertEquals(2, r.matched());
        assertEquals(1.5, r.maxBoxDeviation(), 1e-6);
        assertEquals(0.01, r.maxScoreDeviation(), 1e-6);
        DetectionAgreement.Tolerances strict = new DetectionAgreement.Tolerances(1.0, 0.005, 1.0, 0.0);
        List<String> v = strict.violations(r);
        assertEquals(2, v.size(), v.toString());
        assertTrue(v.get(0).contains("box deviation"), v.toString());
    }

    @Test
    void aLostDetectionIsMissingAndLowersTheAp() {
        // an engine that lost the class-1 box of image A (the fp16 failure this guard exists for)
        DetectionAgreement.Report r = DetectionAgreement.compare(List.of(IMAGE_A, IMAGE_B),
                List.of(List.of(IMAGE_A.get(0)), IMAGE_B), 0.5);
        assertEquals(1, r.missing());
        assertEquals(0, r.extra());
        assertEquals(0, r.worstImage());
        assertEquals(2.0 / 3.0, r.matchedFraction(), 1e-12);
        // class 1 has one reference box and no candidate: its AP is 0, the other two classes 1 -> mean 2/3
        assertEquals(2.0 / 3.0, r.apVsReference(), 1e-9);
        assertTrue(DetectionAgreement.Tolerances.defaults().violations(r).stream().anyMatch(s -> s.startsWith("matched")));
    }

    @Test
    void aBoxOfAnotherClassDoesNotMatch() {
        List<Detection> cand = List.of(d(10, 10, 50, 50, 0.9f, 3), IMAGE_A.get(1));
        DetectionAgreement.Report r = DetectionAgreement.compare(List.of(IMAGE_A), List.of(cand), 0.5);
        assertEquals(1, r.matched());
        assertEquals(1, r.missing());
        assertEquals(1, r.extra());
    }

    @Test
    void emptyOnBothSidesAgrees() {
        DetectionAgreement.Report r = DetectionAgreement.compare(List.of(List.of()), List.of(List.of()), 0.5);
        assertEquals(1.0, r.matchedFraction());
        assertEquals(-1.0, r.apVsReference());
        assertTrue(DetectionAgreement.Tolerances.defaults().violations(r).isEmpty());
    }

    @Test
    void rejectsDifferentImageCounts() {
        assertThrows(IllegalArgumentException.class,
                () -> DetectionAgreement.compare(List.of(IMAGE_A), List.of(IMAGE_A, IMAGE_B), 0.5));
    }
}
