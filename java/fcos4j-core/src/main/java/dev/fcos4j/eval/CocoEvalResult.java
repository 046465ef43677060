package dev.fcos4j.eval;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The outcome of a {@link CocoEvaluator} run: the 12 COCO summary statistics, per-category AP, the reference's
 * summary text, and the accumulated precision/recall arrays. Undefined values are -1, as in the reference.
 * Immutable.
 */
public final class CocoEvalResult {
    /** Names of {@link #stats()} entries, in order. */
    public static final List<String> STAT_NAMES = List.of("AP", "AP50", "AP75", "APs", "APm", "APl",
            "AR1", "AR10", "AR100", "ARs", "ARm", "ARl");

    private static final int T = CocoEvaluator.IOU_THRESHOLDS.length;
    private static final int R = CocoEvaluator.RECALL_THRESHOLDS.length;
    private static final int A = CocoEvaluator.AREA_RANGES.length;
    private static final int M = CocoEvaluator.MAX_DETS.length;

    private final double[] precision;
    private final double[] recall;
    private final int numCats;
    private final double[] stats = new double[12];
    private final String summary;
    private final List<CocoClassAp> perClass;
    private final int numImages;
    private final int numDetections;
    private final int ignoredDetections;
    private final int droppedAnnotations;

    CocoEvalResult(CocoGroundTruth gt, double[] precision, double[] recall, int[] gtCounts, int numDetections,
                   int ignoredDetections) {
        this.precision = precision;
        this.recall = recall;
        this.numCats = gt.categoryIdArray().length;
        this.numImages = gt.imageCount();
        this.numDetections = numDetections;
        this.ignoredDetections = ignoredDetections;
        this.droppedAnnotations = gt.droppedAnnotations();
        double[] buf = new double[Math.max(T * R * numCats, 1)];
        StringBuilder sb = new StringBuilder();
        // The reference's _summarizeDets, line by line.
        stats[0] = summarize(sb, buf, true, null, "all", 100);
        stats[1] = summarize(sb, buf, true, 0.5, "all", 100);
        stats[2] = summarize(sb, buf, true, 0.75, "all", 100);
        stats[3] = summarize(sb, buf, true, null, "small", 100);
        stats[4] = summarize(sb, buf, true, null, "medium", 100);
        stats[5] = summarize(sb, buf, true, null, "large", 100);
        stats[6] = summarize(sb, buf, false, null, "all", 1);
        stats[7] = summarize(sb, buf, false, null, "all", 10);
        stats[8] = summarize(sb, buf, false, null, "all", 100);
        stats[9] = summarize(sb, buf, false, null, "small", 100);
        stats[10] = summarize(sb, buf, false, null, "medium", 100);
        stats[11] = summarize(sb, buf, false, null, "large", 100);
        this.summary = sb.toString();
        List<CocoClassAp> pc = new ArrayList<>(numCats);
        List<CocoCategory> cats = gt.categories();
        int t75 = thresholdIndex(0.75);
        for (int k = 0; k < numCats; k++) {
            pc.add(new CocoClassAp(cats.get(k).id(), cats.get(k).name(), gtCounts[k],
                    classMean(buf, k, -1), classMean(buf, k, thresholdIndex(0.5)), classMean(buf, k, t75)));
        }
        this.perClass = Collections.unmodifiableList(pc);
    }

    private static int thresholdIndex(double iouThr) {
        // np.where(iouThr == p.iouThrs): exact comparison against the linspace values.
        for (int t = 0; t < T; t++) {
            if (CocoEvaluator.IOU_THRESHOLDS[t] == iouThr) {
                return t;
            }
        }
        return -2;
    }

    private static int areaIndex(String label) {
        for (int a = 0; a < A; a++) {
            if (CocoEvaluator.AREA_LABELS[a].equals(label)) {
                return a;
            }
        }
        throw new IllegalArgumentException(label);
    }

    private static int maxDetIndex(int maxDets) {
        for (int m = 0; m < M; m++) {
            if (CocoEvaluator.MAX_DETS[m] == maxDets) {
                return m;
            }
        }
        throw new IllegalArgumentException(String.valueOf(maxDets));
    }

    /** The reference's _summarize: mean of the defined (> -1) entries in C order, then the printed line. */
    private double summarize(StringBuilder sb, double[] buf, boolean ap, Double iouThr, String area, int maxDets) {
        int a = areaIndex(area);
        int m = maxDetIndex(maxDets);
        int tOnly = iouThr == null ? -1 : thresholdIndex(iouThr);
        int n = 0;
        for (int t = 0; t < T; t++) {
            if (tOnly != -1 && t != tOnly) {
                continue;
            }
            if (ap) {
                for (int r = 0; r < R; r++) {
                    for (int k = 0; k < numCats; k++) {
                        double v = precision[(((t * R + r) * numCats + k) * A + a) * M + m];
                        if (v > -1) {
                            buf[n++] = v;
                        }
                    }
                }
            } else {
                for (int k = 0; k < numCats; k++) {
                    double v = recall[((t * numCats + k) * A + a) * M + m];
                    if (v > -1) {
                        buf[n++] = v;
                    }
                }
            }
        }
        double mean = n == 0 ? -1 : NumpyCompat.mean(buf, n);
        String iouStr = iouThr == null
                ? NumpyCompat.formatFixed(CocoEvaluator.IOU_THRESHOLDS[0], 2) + ":" + NumpyCompat.formatFixed(CocoEvaluator.IOU_THRESHOLDS[T - 1], 2)
                : NumpyCompat.formatFixed(iouThr, 2);
        sb.append(String.format(Locale.ROOT, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %s\n",
                ap ? "Average Precision" : "Average Recall", ap ? "(AP)" : "(AR)", iouStr, area, maxDets,
                NumpyCompat.formatFixed(mean, 3)));
        return mean;
    }

    /** Mean precision of category k, area all, 100 detections; over all thresholds (t == -1) or one. */
    private double classMean(double[] buf, int k, int tOnly) {
        int n = 0;
        for (int t = 0; t < T; t++) {
            if (tOnly != -1 && t != tOnly) {
                continue;
            }
            for (int r = 0; r < R; r++) {
                double v = precision[(((t * R + r) * numCats + k) * A) * M + (M - 1)];
                if (v > -1) {
                    buf[n++] = v;
                }
            }
        }
        return n == 0 ? -1 : NumpyCompat.mean(buf, n);
    }

    /** The 12 statistics (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl); -1 where undefined. */
    public double[] stats() {
        return stats.clone();
    }

    /** One statistic by its name in {@link #STAT_NAMES} (e.g. "AP50"). */
    public double stat(String name) {
        int i = STAT_NAMES.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("unknown COCO statistic '" + name + "'; one of " + STAT_NAMES);
        }
        return stats[i];
    }

    /** The 12 statistics keyed by their {@link #STAT_NAMES}, in that order. */
    public Map<String, Double> statsByName() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < stats.length; i++) {
            m.put(STAT_NAMES.get(i), stats[i]);
        }
        return Collections.unmodifiableMap(m);
    }

    /**
     * Writes a machine-readable report: {@code {"stats": {"AP": ..., ...}, "per_class": [{"category_id", "name",
     * "gt", "ap", "ap50", "ap75"}, ...], "images", "detections", "ignored_detections", "dropped_annotations"}}
     * with -1 for undefined values. The stream is not closed.
     */
    public void writeJson(OutputStream out) {
        try (JsonGenerator g = CocoJson.FACTORY.createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeObjectFieldStart("stats");
            for (int i = 0; i < stats.length; i++) {
                g.writeNumberField(STAT_NAMES.get(i), stats[i]);
            }
            g.writeEndObject();
            g.writeArrayFieldStart("per_class");
            for (CocoClassAp c : perClass) {
                g.writeStartObject();
                g.writeNumberField("category_id", c.categoryId());
                g.writeStringField("name", c.name());
                g.writeNumberField("gt", c.groundTruthCount());
                g.writeNumberField("ap", c.ap());
                g.writeNumberField("ap50", c.ap50());
                g.writeNumberField("ap75", c.ap75());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeNumberField("images", numImages);
            g.writeNumberField("detections", numDetections);
            g.writeNumberField("ignored_detections", ignoredDetections);
            g.writeNumberField("dropped_annotations", droppedAnnotations);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the COCO evaluation report", e);
        }
    }

    /** The 12 lines the reference prints, e.g. {@code " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505"}. */
    public String summary() {
        return summary;
    }

    /** Per-category AP, in ascending category id order. */
    public List<CocoClassAp> perClassAp() {
        return perClass;
    }

    /** Per-category AP as an aligned text table (undefined values shown as "n/a"). */
    public String perClassTable() {
        int w = "category".length();
        for (CocoClassAp c : perClass) {
            w = Math.max(w, c.name().length());
        }
        StringBuilder sb = new StringBuilder();
        String fmt = "%-" + w + "s %8s %6s %6s %6s %6s\n";
        sb.append(String.format(Locale.ROOT, fmt, "category", "id", "gt", "AP", "AP50", "AP75"));
        for (CocoClassAp c : perClass) {
            sb.append(String.format(Locale.ROOT, fmt, c.name(), c.categoryId(), c.groundTruthCount(),
                    cell(c.ap()), cell(c.ap50()), cell(c.ap75())));
        }
        return sb.toString();
    }

    private static String cell(double v) {
        return v > -1 ? NumpyCompat.formatFixed(v, 3) : "n/a";
    }

    /**
     * Interpolated precision (the reference's {@code eval['precision'][t, r, k, a, m]}), -1 where undefined.
     *
     * @param t IoU threshold index (0 = 0.50 ... 9 = 0.95)
     * @param r recall point index (0 ... 100)
     * @param k category index in {@link CocoGroundTruth#categories()}
     * @param a area range index (0 all, 1 small, 2 medium, 3 large)
     * @param m max-detections index (0: 1, 1: 10, 2: 100)
     */
    public double precision(int t, int r, int k, int a, int m) {
        return precision[(((check(t, T) * R + check(r, R)) * numCats + check(k, numCats)) * A + check(a, A)) * M + check(m, M)];
    }

    /** Maximum recall (the reference's {@code eval['recall'][t, k, a, m]}), -1 where undefined. */
    public double recall(int t, int k, int a, int m) {
        return recall[((check(t, T) * numCats + check(k, numCats)) * A + check(a, A)) * M + check(m, M)];
    }

    private static int check(int i, int n) {
        if (i < 0 || i >= n) {
            throw new IndexOutOfBoundsException("index " + i + " out of [0, " + n + ")");
        }
        return i;
    }

    /** The number of ground-truth images evaluated. */
    public int imageCount() {
        return numImages;
    }

    /** The number of detection records given (including ignored ones). */
    public int detectionCount() {
        return numDetections;
    }

    /** Detections left out because their category is not in the ground truth (as the reference does). */
    public int ignoredDetections() {
        return ignoredDetections;
    }

    /** Ground-truth annotations left out because their image or category is not listed. */
    public int droppedAnnotations() {
        return droppedAnnotations;
    }

    /** Human-readable notes about ignored records (empty when there are none). */
    public List<String> warnings() {
        List<String> w = new ArrayList<>();
        if (ignoredDetections > 0) {
            w.add(ignoredDetections + " detection(s) have a category_id that is not in the ground truth and were not evaluated");
        }
        if (droppedAnnotations > 0) {
            w.add(droppedAnnotations + " ground-truth annotation(s) refer to an image or category that is not listed and were not evaluated");
        }
        return Collections.unmodifiableList(w);
    }

    @Override
    public String toString() {
        return summary;
    }
}
