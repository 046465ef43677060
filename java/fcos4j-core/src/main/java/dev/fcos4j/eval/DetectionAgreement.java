package dev.fcos4j.eval;

import dev.fcos4j.Detection;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * How closely a candidate's detections (another backend, precision or engine) agree with a reference's on the
 * same images: the guard a deployment pipeline runs before it ships an engine (an fp16 engine that silently
 * loses boxes shows up here as missing detections and a low AP against the reference).
 *
 * <p>Matching, per image and class: reference detections in descending score order (ties: list order) each
 * take the unmatched candidate detection of the same class with the highest IoU, if that IoU is at least
 * {@code matchIou}. Deviations are measured on matched pairs only. The AP is the COCO AP@[.5:.95] of the
 * candidate scored against the reference's detections taken as ground truth (reference-exact evaluator).
 */
public final class DetectionAgreement {
    private DetectionAgreement() {
    }

    /**
     * Agreement statistics.
     *
     * @param images            images compared
     * @param referenceCount    reference detections
     * @param candidateCount    candidate detections
     * @param matched           reference detections with a candidate partner
     * @param missing           reference detections without one
     * @param extra             candidate detections left unmatched
     * @param maxBoxDeviation   largest |coordinate difference| over matched pairs, pixels (0 when none matched)
     * @param maxScoreDeviation largest |score difference| over matched pairs
     * @param apVsReference     COCO AP@[.5:.95] of the candidate against the reference as ground truth
     *                          (-1 when the reference has no detection)
     * @param worstImage        index of the image with the most missing + extra detections (-1 when all agree)
     */
    public record Report(int images, int referenceCount, int candidateCount, int matched, int missing, int extra,
                         double maxBoxDeviation, double maxScoreDeviation, double apVsReference, int worstImage) {
        /** Fraction of reference detections matched (1 when the reference has none). */
        public double matchedFraction() {
            return referenceCount == 0 ? (candidateCount == 0 ? 1.0 : 0.0) : (double) matched / referenceCount;
        }

        /** A short human-readable summary. */
        public String summary() {
            return String.format(Locale.ROOT,
                    "images %d, reference detections %d, candidate detections %d%n"
                            + "matched %d (%.2f%%), missing %d, extra %d%n"
                            + "max box deviation %.4g px, max score deviation %.4g%n"
                            + "AP of the candidate against the reference: %s",
                    images, referenceCount, candidateCount, matched, 100 * matchedFraction(), missing, extra,
                    maxBoxDeviation, maxScoreDeviation, apVsReference < 0 ? "n/a (no reference detections)"
                            : String.format(Locale.ROOT, "%.4f", apVsReference));
        }
    }

    /**
     * Limits a candidate must respect.
     *
     * @param maxBoxDeviation     pixels
     * @param maxScoreDeviation   absolute score
     * @param minMatchedFraction  of the reference's detections
     * @param minApVsReference    COCO AP@[.5:.95] against the reference
     */
    public record Tolerances(double maxBoxDeviation, double maxScoreDeviation, double minMatchedFraction,
                             double minApVsReference) {
        /** Defaults for a reduced-precision engine: 2 px, 0.02 score, 98 % matched, AP 0.95. */
        public static Tolerances defaults() {
            return new Tolerances(2.0, 0.02, 0.98, 0.95);
        }

        /** The violated limits, empty when the report is within all of them. */
        public List<String> violations(Report r) {
            List<String> v = new ArrayList<>();
            if (r.maxBoxDeviation() > maxBoxDeviation) {
                v.add(String.format(Locale.ROOT, "max box deviation %.4g px > %.4g", r.maxBoxDeviation(), maxBoxDeviation));
            }
            if (r.maxScoreDeviation() > maxScoreDeviation) {
                v.add(String.format(Locale.ROOT, "max score deviation %.4g > %.4g", r.maxScoreDeviation(), maxScoreDeviation));
            }
            if (r.matchedFraction() < minMatchedFraction) {
                v.add(String.format(Locale.ROOT, "matched %.2f%% < %.2f%%", 100 * r.matchedFraction(), 100 * minMatchedFraction));
            }
            if (r.apVsReference() >= 0 && r.apVsReference() < minApVsReference) {
                v.add(String.format(Locale.ROOT, "AP against the reference %.4f < %.4f", r.apVsReference(), minApVsReference));
            }
            return v;
        }
    }

    /**
     * Compares per-image detection lists.
     *
     * @param reference per image, the reference detections
     * @param candidate per image, the candidate detections (same image order)
     * @param matchIou  minimum IoU of a match (0.5 is usual)
     */
    public static Report compare(List<List<Detection>> reference, List<List<Detection>> candidate, double matchIou) {
        if (reference.size() != candidate.size()) {
            throw new IllegalArgumentException("reference has " + reference.size() + " images, candidate "
                    + candidate.size());
        }
        int refCount = 0;
        int candCount = 0;
        int matched = 0;
        int worst = -1;
        int worstBad = 0;
        double maxBox = 0;
        double maxScore = 0;
        CocoGroundTruth.Builder gt = CocoGroundTruth.builder("reference detections");
        CocoDetections.Builder dt = CocoDetections.builder("candidate detections");
        int maxClass = -1;
        long annId = 1;
        for (int i = 0; i < reference.size(); i++) {
            List<Detection> ref = sortedByScore(reference.get(i));
            List<Detection> cand = candidate.get(i);
            refCount += ref.size();
            candCount += cand.size();
            boolean[] used = new boolean[cand.size()];
            int imageMatched = 0;
            for (Detection r : ref) {
                int best = -1;
                double bestIou = matchIou;
                for (int j = 0; j < cand.size(); j++) {
                    Detection c = cand.get(j);
                    if (used[j] || c.classId() != r.classId()) {
                        continue;
                    }
                    double iou = iou(r, c);
                    if (iou >= bestIou && (best < 0 || iou > bestIou)) {
                        best = j;
                        bestIou = iou;
                    }
                }
                if (best >= 0) {
                    used[best] = true;
                    imageMatched++;
                    Detection c = cand.get(best);
                    maxBox = Math.max(maxBox, Math.max(Math.max(Math.abs(r.x1() - c.x1()), Math.abs(r.y1() - c.y1())),
                            Math.max(Math.abs(r.x2() - c.x2()), Math.abs(r.y2() - c.y2()))));
                    maxScore = Math.max(maxScore, Math.abs(r.score() - c.score()));
                }
            }
            matched += imageMatched;
            int bad = (ref.size() - imageMatched) + (cand.size() - imageMatched);
            if (bad > worstBad) {
                worstBad = bad;
                worst = i;
            }
            long imageId = i + 1L;
            gt.image(imageId, "image-" + imageId, 1, 1);
            for (Detection r : ref) {
                maxClass = Math.max(maxClass, r.classId());
                double w = (double) r.x2() - r.x1();
                double h = (double) r.y2() - r.y1();
                if (w >= 0 && h >= 0) {
                    gt.annotation(annId++, imageId, r.classId() + 1L, r.x1(), r.y1(), w, h, w * h, false);
                }
            }
            for (Detection c : cand) {
                maxClass = Math.max(maxClass, c.classId());
                dt.add(imageId, c.classId() + 1L, c);
            }
        }
        for (int c = 0; c <= maxClass; c++) {
            gt.category(c + 1L, "class_" + c);
        }
        double ap = -1;
        if (refCount > 0) {
            ap = CocoEvaluator.evaluate(gt.build(), dt.build(), UnknownCategoryPolicy.IGNORE).stats()[0];
        }
        return new Report(reference.size(), refCount, candCount, matched, refCount - matched, candCount - matched,
                maxBox, maxScore, ap, worst);
    }

    private static List<Detection> sortedByScore(List<Detection> dets) {
        Detection[] a = dets.toArray(new Detection[0]);
        Arrays.sort(a, (p, q) -> Float.compare(q.score(), p.score())); // stable: ties keep list order
        return Collections.unmodifiableList(Arrays.asList(a));
    }

    static double iou(Detection a, Detection b) {
        double iw = Math.min(a.x2(), b.x2()) - Math.max(a.x1(), b.x1());
        double ih = Math.min(a.y2(), b.y2()) - Math.max(a.y1(), b.y1());
        if (iw <= 0 || ih <= 0) {
            return a.x1() == b.x1() && a.y1() == b.y1() && a.x2() == b.x2() && a.y2() == b.y2() ? 1.0 : 0.0;
        }
        double inter = iw * ih;
        double union = ((double) a.x2() - a.x1()) * ((double) a.y2() - a.y1())
                + ((double) b.x2() - b.x1()) * ((double) b.y2() - b.y1()) - inter;
        return union <= 0 ? 0 : inter / union;
    }
}
