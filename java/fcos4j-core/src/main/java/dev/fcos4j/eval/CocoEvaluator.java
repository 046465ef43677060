package dev.fcos4j.eval;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * COCO bbox evaluation that reproduces the reference COCO API ({@code COCOeval}, iouType "bbox", default
 * parameters): IoU thresholds 0.50:0.05:0.95, 101 recall points, 1/10/100 detections per image, area ranges
 * all/small/medium/large, crowd handling, and the 12 summary statistics. docs/EVAL.md lists what is reproduced
 * and how it was checked. Stateless; safe to call from several threads.
 *
 * <pre>{@code
 * CocoEvalResult r = CocoEvaluator.evaluate(Path.of("instances_val2017.json"), Path.of("results.json"));
 * System.out.println(r.summary());
 * double map = r.stats()[0];
 * }</pre>
 */
public final class CocoEvaluator {
    /** The IoU thresholds, as {@code np.linspace(.5, 0.95, 10)} computes them (0.8999999999999999, not 0.9). */
    static final double[] IOU_THRESHOLDS = NumpyCompat.linspace(0.5, 0.95, (int) Math.rint((0.95 - 0.5) / 0.05) + 1);
    /** The recall points 0:0.01:1 as {@code np.linspace(0, 1, 101)}. */
    static final double[] RECALL_THRESHOLDS = NumpyCompat.linspace(0.0, 1.0, (int) Math.rint((1.00 - 0.0) / 0.01) + 1);
    /** Detections per image considered, ascending. */
    static final int[] MAX_DETS = {1, 10, 100};
    /** Area ranges (inclusive at both ends, as the reference tests {@code area < lo or area > hi}). */
    static final double[][] AREA_RANGES = {{0, 1e10}, {0, 32 * 32}, {32 * 32, 96 * 96}, {96 * 96, 1e10}};
    static final String[] AREA_LABELS = {"all", "small", "medium", "large"};

    private static final int T = IOU_THRESHOLDS.length;
    private static final int R = RECALL_THRESHOLDS.length;
    private static final int A = AREA_RANGES.length;
    private static final int M = MAX_DETS.length;
    private static final int MAX_DET = MAX_DETS[M - 1];
    private static final byte IGNORED = 0, TRUE_POSITIVE = 1, FALSE_POSITIVE = 2;

    private CocoEvaluator() {
    }

    /** Loads both files (streaming) and evaluates them with the reference's handling of unknown categories. */
    public static CocoEvalResult evaluate(Path groundTruthFile, Path resultsFile) {
        return evaluate(groundTruthFile, resultsFile, UnknownCategoryPolicy.IGNORE);
    }

    /** Loads both files (streaming) and evaluates them. */
    public static CocoEvalResult evaluate(Path groundTruthFile, Path resultsFile, UnknownCategoryPolicy policy) {
        CocoGroundTruth gt = CocoGroundTruth.load(groundTruthFile);
        return evaluate(gt, CocoDetections.load(resultsFile), policy);
    }

    /** Evaluates with {@link UnknownCategoryPolicy#IGNORE}, the reference behaviour. */
    public static CocoEvalResult evaluate(CocoGroundTruth gt, CocoDetections dt) {
        return evaluate(gt, dt, UnknownCategoryPolicy.IGNORE);
    }

    /**
     * Evaluates detections against ground truth.
     *
     * @throws CocoFormatException naming the results record when a detection is on an image absent from the ground
     *                             truth (the reference asserts), or has an unknown category under
     *                             {@link UnknownCategoryPolicy#REJECT}
     */
    public static CocoEvalResult evaluate(CocoGroundTruth gt, CocoDetections dt, UnknownCategoryPolicy policy) {
        Objects.requireNonNull(gt, "gt");
        Objects.requireNonNull(dt, "dt");
        Objects.requireNonNull(policy, "policy");
        return new Run(gt, dt, policy).execute();
    }

    /** One evaluation: per image and category matching, then accumulation, category by category. */
    private static final class Run {
        private final CocoGroundTruth gt;
        private final CocoDetections dt;
        private final UnknownCategoryPolicy policy;
        private final long[] imageIds;
        private final int numImages;
        private final int numCats;
        private final double[] precision;
        private final double[] recall;
        private final int[] gtCountAll;
        private int ignoredDetections;

        // Per-cell scratch, sized for the largest cell seen so far.
        private double[] iou = new double[0];
        private boolean[] gtIgnore = new boolean[0];
        private boolean[] gtMatched = new boolean[0];
        private int[] gtOrder = new int[0];
        private boolean[] dtOutside = new boolean[MAX_DET];

        // Per-category buffers: the category's detections in reference order (image, then score within the image).
        private double[] catScore = new double[0];
        private int[] catRank = new int[0];
        private byte[] catState = new byte[0];
        private int catCap;
        private final int[] npig = new int[A];

        Run(CocoGroundTruth gt, CocoDetections dt, UnknownCategoryPolicy policy) {
            this.gt = gt;
            this.dt = dt;
            this.policy = policy;
            this.imageIds = gt.imageIdArray();
            this.numImages = imageIds.length;
            this.numCats = gt.categoryIdArray().length;
            this.precision = new double[T * R * numCats * A * M];
            this.recall = new double[T * numCats * A * M];
            this.gtCountAll = new int[numCats];
            Arrays.fill(precision, -1);
            Arrays.fill(recall, -1);
        }

        CocoEvalResult execute() {
            long[] catIds = gt.categoryIdArray();
            if ((long) numCats * numImages >= Integer.MAX_VALUE) {
                throw new CocoFormatException(gt.source() + ": " + numImages + " images x " + numCats
                        + " categories is more than this evaluator indexes (2^31 image-category pairs)");
            }
            // Sort keys: (image-category cell << 32) | record index, so equal cells keep file order.
            long[] dtKeys = new long[dt.size()];
            int nd = 0;
            for (int i = 0; i < dt.size(); i++) {
                long imageId = dt.imageId(i);
                int img = Arrays.binarySearch(imageIds, imageId);
                if (img < 0) {
                    throw new CocoFormatException(dt.source() + ": record [" + i + "] (image_id " + imageId + ", category_id "
                            + dt.categoryId(i) + ") is on an image that is not in the ground truth " + gt.source()
                            + " (the reference COCO API rejects such results)");
                }
                int cat = Arrays.binarySearch(catIds, dt.categoryId(i));
                if (cat < 0) {
                    if (policy == UnknownCategoryPolicy.REJECT) {
                        throw new CocoFormatException(dt.source() + ": record [" + i + "] (image_id " + imageId + ") has category_id "
                                + dt.categoryId(i) + ", which is not a category of the ground truth " + gt.source());
                    }
                    ignoredDetections++;
                    continue;
                }
                dtKeys[nd++] = ((long) cat * numImages + img) << 32 | i;
            }
            dtKeys = Arrays.copyOf(dtKeys, nd);
            Arrays.sort(dtKeys);
            int ng = gt.annotationCount();
            long[] gtKeys = new long[ng];
            for (int j = 0; j < ng; j++) {
                gtKeys[j] = ((long) gt.annCategory(j) * numImages + gt.annImage(j)) << 32 | j;
            }
            Arrays.sort(gtKeys);

            int[] cellGt = new int[16];
            int[] cellDt = new int[16];
            int gp = 0, dp = 0;
            for (int k = 0; k < numCats; k++) {
                long catEnd = (long) (k + 1) * numImages;
                // Upper bound of this category's detections, for the buffers.
                int dEnd = dp;
                while (dEnd < nd && (dtKeys[dEnd] >>> 32) < catEnd) {
                    dEnd++;
                }
                ensureCategoryCapacity((int) Math.min(dEnd - dp, (long) MAX_DET * numImages), catIds[k]);
                Arrays.fill(npig, 0);
                int nCat = 0;
                boolean anyCell = false;
                while (true) {
                    long gCell = gp < ng ? gtKeys[gp] >>> 32 : Long.MAX_VALUE;
                    long dCell = dp < nd ? dtKeys[dp] >>> 32 : Long.MAX_VALUE;
                    long cell = Math.min(gCell, dCell);
                    if (cell >= catEnd) {
                        break;
                    }
                    int G = 0;
                    while (gp < ng && (gtKeys[gp] >>> 32) == cell) {
                        if (G == cellGt.length) {
                            cellGt = Arrays.copyOf(cellGt, 2 * G);
                        }
                        cellGt[G++] = (int) gtKeys[gp++];
                    }
                    int D = 0;
                    while (dp < nd && (dtKeys[dp] >>> 32) == cell) {
                        if (D == cellDt.length) {
                            cellDt = Arrays.copyOf(cellDt, 2 * D);
                        }
                        cellDt[D++] = (int) dtKeys[dp++];
                    }
                    anyCell = true;
                    StableSort.byScoreDescending(cellDt, D, dt);
                    D = Math.min(D, MAX_DET);
                    evaluateCell(cellGt, G, cellDt, D, nCat);
                    nCat += D;
                }
                gtCountAll[k] = npig[0];
                if (anyCell) {
                    accumulate(k, nCat);
                }
            }
            return new CocoEvalResult(gt, precision, recall, gtCountAll, dt.size(), ignoredDetections);
        }

        private void ensureCategoryCapacity(int n, long categoryId) {
            if ((long) A * T * n > Integer.MAX_VALUE - 16) {
                throw new CocoFormatException(dt.source() + ": category_id " + categoryId + " has " + n
                        + " detections to evaluate, more than this evaluator holds per category");
            }
            if (n > catCap) {
                catCap = (int) Math.min(Math.max(n, 2L * catCap), (Integer.MAX_VALUE - 16) / (A * T));
                catScore = new double[catCap];
                catRank = new int[catCap];
                catState = new byte[A * T * catCap];
            }
        }

        /**
         * The reference's evaluateImg for one image and category, for all area ranges: greedy matching of the
         * score-sorted detections to ground truth, regular ground truth before ignored, crowd never used up.
         */
        private void evaluateCell(int[] g, int G, int[] d, int D, int base) {
            double[] gtBox = gt.annBoxes();
            double[] dtBox = dt.boxes();
            if (iou.length < G * D) {
                iou = new double[Math.max(G * D, 2 * iou.length)];
            }
            if (gtIgnore.length < G) {
                int c = Math.max(G, 2 * gtIgnore.length);
                gtIgnore = new boolean[c];
                gtMatched = new boolean[c];
                gtOrder = new int[c];
            }
            if (G > 0 && D > 0) {
                for (int dd = 0; dd < D; dd++) {
                    int di = 4 * d[dd];
                    double dx = dtBox[di], dy = dtBox[di + 1], dw = dtBox[di + 2], dh = dtBox[di + 3];
                    double dArea = dw * dh;
                    for (int gg = 0; gg < G; gg++) {
                        int gi = 4 * g[gg];
                        double gx = gtBox[gi], gy = gtBox[gi + 1], gw = gtBox[gi + 2], gh = gtBox[gi + 3];
                        double v = 0;
                        double w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
                        if (w > 0) {
                            double h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
                            if (h > 0) {
                                double inter = w * h;
                                // Against a crowd region the union is the detection's own area.
                                double union = gt.annCrowd(g[gg]) ? dArea : dArea + gw * gh - inter;
                                v = inter / union;
                            }
                        }
                        iou[dd * G + gg] = v;
                    }
                }
            }
            for (int dd = 0; dd < D; dd++) {
                catScore[base + dd] = dt.score(d[dd]);
                catRank[base + dd] = dd;
            }
            for (int a = 0; a < A; a++) {
                double lo = AREA_RANGES[a][0], hi = AREA_RANGES[a][1];
                int n = 0;
                for (int gg = 0; gg < G; gg++) {
                    double area = gt.annArea(g[gg]);
                    gtIgnore[gg] = gt.annCrowd(g[gg]) || area < lo || area > hi;
                    if (!gtIgnore[gg]) {
                        gtOrder[n++] = gg;
                    }
                }
                npig[a] += n;
                for (int gg = 0; gg < G; gg++) {
                    if (gtIgnore[gg]) {
                        gtOrder[n++] = gg;
                    }
                }
                for (int dd = 0; dd < D; dd++) {
                    int di = 4 * d[dd];
                    double area = dtBox[di + 2] * dtBox[di + 3];
                    dtOutside[dd] = area < lo || area > hi;
                }
                for (int t = 0; t < T; t++) {
                    Arrays.fill(gtMatched, 0, G, false);
                    int out = (a * T + t) * catCap + base;
                    for (int dd = 0; dd < D; dd++) {
                        int m = -1;
                        double best = Math.min(IOU_THRESHOLDS[t], 1 - 1e-10);
                        for (int q = 0; q < G; q++) {
                            int gg = gtOrder[q];
                            if (gtMatched[gg] && !gt.annCrowd(g[gg])) {
                                continue;
                            }
                            // Matched a regular box already and only ignored ones are left: stop.
                            if (m > -1 && !gtIgnore[m] && gtIgnore[gg]) {
                                break;
                            }
                            double v = iou[dd * G + gg];
                            if (v < best) {
                                continue;
                            }
                            best = v;
                            m = gg;
                        }
                        boolean matchedIgnored = false;
                        // The reference records the matched ground-truth id and later tests it for non-zero,
                        // so a match to an annotation with id 0 counts as no match; reproduced on purpose.
                        boolean matched = false;
                        if (m > -1) {
                            gtMatched[m] = true;
                            matchedIgnored = gtIgnore[m];
                            matched = gt.annId(g[m]) != 0;
                        }
                        boolean ignored = matchedIgnored || (!matched && dtOutside[dd]);
                        catState[out + dd] = ignored ? IGNORED : matched ? TRUE_POSITIVE : FALSE_POSITIVE;
                    }
                }
            }
        }

        /** The reference's accumulate for one category: precision/recall curves per area range, maxDets, IoU. */
        private void accumulate(int k, int nCat) {
            int[] order = new int[nCat];
            for (int i = 0; i < nCat; i++) {
                order[i] = i;
            }
            StableSort.byKeyDescending(order, nCat, catScore);
            int[] sel = new int[nCat];
            double[] rc = new double[nCat];
            double[] pr = new double[nCat];
            for (int mi = 0; mi < M; mi++) {
                int maxDet = MAX_DETS[mi];
                // Taking each image's first maxDet and re-sorting stably is the same as filtering the full order.
                int n = 0;
                for (int i = 0; i < nCat; i++) {
                    if (catRank[order[i]] < maxDet) {
                        sel[n++] = order[i];
                    }
                }
                for (int a = 0; a < A; a++) {
                    if (npig[a] == 0) {
                        continue;
                    }
                    for (int t = 0; t < T; t++) {
                        int row = (a * T + t) * catCap;
                        double tp = 0, fp = 0;
                        for (int i = 0; i < n; i++) {
                            byte s = catState[row + sel[i]];
                            if (s == TRUE_POSITIVE) {
                                tp++;
                            } else if (s == FALSE_POSITIVE) {
                                fp++;
                            }
                            rc[i] = tp / npig[a];
                            pr[i] = tp / (fp + tp + NumpyCompat.SPACING_1);
                        }
                        recall[((t * numCats + k) * A + a) * M + mi] = n > 0 ? rc[n - 1] : 0;
                        // Precision envelope: each point takes the best precision at any higher recall.
                        for (int i = n - 1; i > 0; i--) {
                            if (pr[i] > pr[i - 1]) {
                                pr[i - 1] = pr[i];
                            }
                        }
                        int j = 0;
                        for (int r = 0; r < R; r++) {
                            // np.searchsorted(rc, recThr, side='left'): first index with rc >= recThr.
                            while (j < n && rc[j] < RECALL_THRESHOLDS[r]) {
                                j++;
                            }
                            precision[(((t * R + r) * numCats + k) * A + a) * M + mi] = j < n ? pr[j] : 0;
                        }
                    }
                }
            }
        }
    }
}
