package dev.fcos4j.postprocess;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.Detection;
import dev.fcos4j.InvalidHeadOutputException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.ResourceClosedException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.memory.LeakTracker;
import dev.fcos4j.preprocess.ImageMeta;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The Java reference post-processing: engines/POSTPROCESS.md as plain Java, the oracle for every other
 * implementation. Thread-safe: the configuration is immutable and every mutable work array lives in a
 * per-thread scratch object, so concurrent calls share nothing.
 *
 * <p>Per image and level the class logits are scanned once, in memory order, against a logit-space lower
 * bound (no sigmoid for values below it). The bound starts at the logit of the score threshold and, once the
 * bounded top-k heap is full, rises to the logit of the heap's worst key, so a dense map costs one compare per
 * value plus exact work for the few values that can still enter. Every decision is then taken with the exact
 * float rule of the spec; the bound is only ever conservative (it never rejects a value the rule would keep).
 *
 * For fcos and torchvision, whose rank key includes the centerness, each point additionally gets its own
 * bound from its centerness once the heap is full (engines/POSTPROCESS.md section 6).
 *
 * <p>One image runs on one thread: the scan of the R-50 shapes (1.79 M logits) is memory-bound at well under the
 * per-image budget measured by {@code PostProcessBenchmark}, so one image is not split. The images of a batch can be
 * shared by several threads ({@code threads} at construction; {@link BatchWorkers}, still allocation-free), and the
 * instance can be shared by concurrent callers.
 *
 * <p>{@link #processInto} writes into a caller-owned {@link DetectionArrays} and allocates nothing once the
 * thread's scratch has grown to the shapes in use; {@link #process} builds {@link Detection} lists on top of it.
 */
public final class ReferencePostProcessor implements PostProcessor {
    private static final int MMDET = 0;
    private static final int FCOS = 1;
    private static final int TORCHVISION = 2;

    private final PostProcessConfig config;
    private final List<String> classNames;
    private final int convention;
    private final float threshold;
    private final float iouThreshold;
    private final int nmsPre;
    private final int maxDetections;
    /** Logit below which no value can be a candidate (conservative). */
    private final float staticBound;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);
    /** Helpers sharing a batch's images (null: one thread); used with {@link #batchJob}, one batch at a time. */
    private final BatchWorkers workers;
    private final BatchJob batchJob = new BatchJob();
    private final LeakTracker.Registration leakRegistration;
    private volatile boolean closed;

    /**
     * @param config     thresholds and convention
     * @param classNames labels for class ids (may be empty: labels are then "class_N"); when not empty its size
     *                   must equal the number of classes of the heads processed
     */
    public ReferencePostProcessor(PostProcessConfig config, List<String> classNames) {
        this(config, classNames, 1);
    }

    /**
     * @param config     thresholds and convention
     * @param classNames labels for class ids (may be empty: labels are then "class_N")
     * @param threads    threads that share the images of one batch, the caller included (1: the caller alone). The
     *                   {@code threads - 1} helpers are daemon threads, parked between batches, stopped by
     *                   {@link #close()}. Results do not depend on it.
     */
    public ReferencePostProcessor(PostProcessConfig config, List<String> classNames, int threads) {
        if (threads < 1) {
            throw new ConfigurationException("post-processing threads must be at least 1, got " + threads);
        }
        if (config == null) {
            throw new IllegalArgumentException("post-processing config must not be null");
        }
        if (classNames == null) {
            throw new IllegalArgumentException("class names must not be null (pass an empty list for class_N labels)");
        }
        this.config = config;
        this.classNames = List.copyOf(classNames);
        this.convention = switch (config.convention()) {
            case MMDET -> MMDET;
            case FCOS -> FCOS;
            case TORCHVISION -> TORCHVISION;
        };
        this.threshold = config.scoreThreshold();
        this.iouThreshold = config.nmsIouThreshold();
        this.nmsPre = config.nmsPre();
        this.maxDetections = config.maxDetections();
        this.staticBound = convention == TORCHVISION ? logitBound(squareBelow(threshold)) : logitBound(threshold);
        this.workers = threads > 1 ? new BatchWorkers(threads - 1, "fcos4j-postprocess") : null;
        // Dropped unclosed, the helper threads would park forever: the tracker stops them.
        this.leakRegistration = workers == null ? null
                : LeakTracker.register(this, "ReferencePostProcessor with " + threads + " threads", workers::close);
    }

    /** Threads that share the images of one batch, the caller included. */
    public int threads() {
        return workers == null ? 1 : workers.parallelism();
    }

    /** Images processed on helper threads so far (tests: the helpers really take part). */
    long imagesOnHelperThreads() {
        return workers == null ? 0 : workers.helperImages();
    }

    @Override
    public PostProcessConfig config() {
        return config;
    }

    /** The class names given at construction (immutable). */
    public List<String> classNames() {
        return classNames;
    }

    /**
     * Post-processes every image of the batch into {@link Detection} lists.
     *
     * @throws InvalidHeadOutputException a NaN / +Inf class logit, a non-finite centerness, or a non-finite
     *                                    distance at a selected candidate (the message names tensor and position)
     * @throws IllegalArgumentException   {@code metas} does not hold one entry per image
     * @throws ModelContractException     the class names do not match the number of classes
     */
    @Override
    public List<List<Detection>> process(HeadTensors heads, List<ImageMeta> metas) {
        checkOpen();
        if (heads == null) {
            throw new IllegalArgumentException("head tensors must not be null");
        }
        Scratch s = scratch.get();
        DetectionArrays out = s.output(heads.batch(), maxDetections);
        processInto(heads, metas, out);
        List<List<Detection>> result = new ArrayList<>(heads.batch());
        for (int n = 0; n < heads.batch(); n++) {
            int count = out.count(n);
            List<Detection> list = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int c = out.classId(n, i);
                list.add(new Detection(out.x1(n, i), out.y1(n, i), out.x2(n, i), out.y2(n, i), out.score(n, i), c,
                        classNames.isEmpty() ? "class_" + c : classNames.get(c)));
            }
            result.add(Collections.unmodifiableList(list));
        }
        return Collections.unmodifiableList(result);
    }

    /**
     * Post-processes every image of the batch into {@code out}: image n's detections go to rows
     * {@code 0 .. out.count(n)-1} of image n, sorted by descending score. Allocation-free at steady state.
     *
     * @param heads head outputs, batch N
     * @param metas N image geometries, in batch order
     * @param out   receives the result; needs {@code maxBatch >= N} and {@code maxDetections >= config().maxDetections()}
     * @throws InvalidHeadOutputException see {@link #process}
     */
    public void processInto(HeadTensors heads, List<ImageMeta> metas, DetectionArrays out) {
        checkOpen();
        if (heads == null) {
            throw new IllegalArgumentException("head tensors must not be null");
        }
        if (metas == null) {
            throw new IllegalArgumentException("image metas must not be null");
        }
        if (out == null) {
            throw new IllegalArgumentException("output DetectionArrays must not be null");
        }
        int batch = heads.batch();
        if (metas.size() != batch) {
            throw new IllegalArgumentException("got " + metas.size() + " image metas for a batch of " + batch
                    + " head outputs: one ImageMeta per image is required");
        }
        if (!classNames.isEmpty() && classNames.size() != heads.numClasses()) {
            throw new ModelContractException("head tensors have " + heads.numClasses() + " classes but "
                    + classNames.size() + " class names were given");
        }
        if (out.maxBatch() < batch || out.maxDetections() < maxDetections) {
            throw new IllegalArgumentException("DetectionArrays holds " + out.maxBatch() + " images x "
                    + out.maxDetections() + " detections, need " + batch + " x " + maxDetections);
        }
        for (int n = 0; n < batch; n++) {
            if (metas.get(n) == null) {
                throw new IllegalArgumentException("image meta " + n + " is null");
            }
        }
        if (workers != null && batch > 1 && workers.tryAcquire()) {
            try {
                batchJob.set(heads, metas, out);
                workers.runAll(batch, batchJob);
            } finally {
                batchJob.set(null, null, null);
                workers.release();
            }
            return;
        }
        Scratch s = scratch.get();
        s.ensure(heads, nmsPre, maxDetections);
        for (int n = 0; n < batch; n++) {
            processImage(heads, n, metas.get(n), s, out);
        }
    }

    /** The batch being shared with the helpers: each participant processes images with its own scratch. */
    private final class BatchJob implements BatchWorkers.ImageJob {
        private HeadTensors heads;
        private List<ImageMeta> metas;
        private DetectionArrays out;

        void set(HeadTensors heads, List<ImageMeta> metas, DetectionArrays out) {
            this.heads = heads;
            this.metas = metas;
            this.out = out;
        }

        @Override
        public void run(int image) {
            Scratch s = scratch.get();
            s.ensure(heads, nmsPre, maxDetections);
            processImage(heads, image, metas.get(image), s, out);
        }
    }

    /** Marks this post-processor closed and stops its helper threads (after a batch in progress); idempotent. */
    @Override
    public void close() {
        closed = true;
        if (workers != null) {
            leakRegistration.closed();
            workers.close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new ResourceClosedException("ReferencePostProcessor (" + config.convention().id() + ") is closed");
        }
    }

    // ------------------------------------------------------------------------------------------------ per image

    private void processImage(HeadTensors heads, int n, ImageMeta meta, Scratch s, DetectionArrays out) {
        int count = 0;
        final int numClasses = heads.numClasses();
        final float resizedW = meta.resizedWidth();
        final float resizedH = meta.resizedHeight();
        // mmdet rescales before NMS with the reciprocal of its double scale factor, cast to float
        final float mmdetFx = (float) (1.0 / ((double) meta.resizedWidth() / meta.originalWidth()));
        final float mmdetFy = (float) (1.0 / ((double) meta.resizedHeight() / meta.originalHeight()));
        for (int l = 0; l < heads.numLevels(); l++) {
            LevelShape shape = heads.level(l);
            final int hw = shape.points();
            final int width = shape.width();
            final int stride = shape.stride();
            // torchvision's AnchorGenerator spaces points by padded size // level size (not the nominal
            // stride: P6/P7 differ unless the padded size is a multiple of 64/128); level 0 gives the padded size.
            final int tvStrideX = heads.level(0).width() * heads.level(0).stride() / width;
            final int tvStrideY = heads.level(0).height() * heads.level(0).stride() / shape.height();
            FloatBuffer ctr = heads.ctr(l);
            FloatBuffer reg = heads.reg(l);
            checkCenterness(ctr, n, l, shape);
            int k = selectTopK(heads.cls(l), ctr, n, l, numClasses, shape, s);
            final int ctrBase = n * hw;
            final int regBase = n * 4 * hw;
            for (int i = 0; i < k; i++) {
                float key = s.heapKey[i];
                int flat = s.heapIdx[i];
                int p = flat / numClasses;
                int c = flat - p * numClasses;
                int y = p / width;
                int x = p - y * width;
                float dl = regValue(reg, regBase + p, l, n, 0, y, x);
                float dt = regValue(reg, regBase + hw + p, l, n, 1, y, x);
                float dr = regValue(reg, regBase + 2 * hw + p, l, n, 2, y, x);
                float db = regValue(reg, regBase + 3 * hw + p, l, n, 3, y, x);
                float x1;
                float y1;
                float x2;
                float y2;
                float score;
                if (convention == MMDET) {
                    float px = (x + 0.5f) * stride;
                    float py = (y + 0.5f) * stride;
                    x1 = clamp(px - dl, resizedW) * mmdetFx;
                    y1 = clamp(py - dt, resizedH) * mmdetFy;
                    x2 = clamp(px + dr, resizedW) * mmdetFx;
                    y2 = clamp(py + db, resizedH) * mmdetFy;
                    score = key * sigmoid(ctr.get(ctrBase + p));
                    if (!(x2 - x1 > 0f) || !(y2 - y1 > 0f)) {
                        continue;
                    }
                } else if (convention == FCOS) {
                    float px = x * stride + stride / 2;
                    float py = y * stride + stride / 2;
                    x1 = clamp(px - dl, resizedW - 1f);
                    y1 = clamp(py - dt, resizedH - 1f);
                    x2 = clamp(px + dr, resizedW - 1f);
                    y2 = clamp(py + db, resizedH - 1f);
                    score = (float) Math.sqrt(key);
                } else {
                    float px = x * tvStrideX;
                    float py = y * tvStrideY;
                    x1 = clamp(px - dl, resizedW);
                    y1 = clamp(py - dt, resizedH);
                    x2 = clamp(px + dr, resizedW);
                    y2 = clamp(py + db, resizedH);
                    score = key;
                }
                s.cx1[count] = x1;
                s.cy1[count] = y1;
                s.cx2[count] = x2;
                s.cy2[count] = y2;
                s.cScore[count] = score;
                s.cClass[count] = c;
                count++;
            }
        }
        int kept = nms(s, count);
        float fx = 1f;
        float fy = 1f;
        if (convention == FCOS) {
            fx = (float) ((double) meta.originalWidth() / meta.resizedWidth());
            fy = (float) ((double) meta.originalHeight() / meta.resizedHeight());
        } else if (convention == TORCHVISION) {
            fx = (float) meta.originalWidth() / (float) meta.resizedWidth();
            fy = (float) meta.originalHeight() / (float) meta.resizedHeight();
        }
        for (int j = 0; j < kept; j++) {
            int i = s.kept[j];
            if (convention == MMDET) {
                out.set(n, j, s.cx1[i], s.cy1[i], s.cx2[i], s.cy2[i], s.cScore[i], s.cClass[i]);
            } else {
                out.set(n, j, s.cx1[i] * fx, s.cy1[i] * fy, s.cx2[i] * fx, s.cy2[i] * fy, s.cScore[i], s.cClass[i]);
            }
        }
        out.setCount(n, kept);
    }

    private static float clamp(float v, float max) {
        // min(max(v, 0), max) in this order, like torch.clamp(min=0, max=...)
        float lo = v < 0f ? 0f : v;
        return lo > max ? max : lo;
    }

    private static float regValue(FloatBuffer reg, int index, int level, int image, int channel, int y, int x) {
        float v = reg.get(index);
        if (!Float.isFinite(v)) {
            throw new InvalidHeadOutputException("tensor reg_" + level + " holds " + v + " at image " + image
                    + ", channel " + channel + ", y " + y + ", x " + x + " (a selected candidate's box distance)");
        }
        return v;
    }

    private static void checkCenterness(FloatBuffer ctr, int n, int level, LevelShape shape) {
        int hw = shape.points();
        int base = n * hw;
        for (int p = 0; p < hw; p++) {
            float v = ctr.get(base + p);
            // v - v is 0 for finite v and NaN for NaN / +-Inf: one compare in the common case
            if (v - v != 0f) {
                throw new InvalidHeadOutputException("tensor ctr_" + level + " holds " + v + " at image " + n
                        + ", channel 0, y " + (p / shape.width()) + ", x " + (p % shape.width()));
            }
        }
    }

    // ------------------------------------------------------------------------------------------ top-k per level

    /** Positions scanned per branch-free pass. */
    private static final int CHUNK = 512;

    /**
     * Scans one image's class logits of one level and leaves its best {@code min(nmsPre, candidates)} candidates
     * in {@code s.heapKey / s.heapIdx[0..k)}, best first (key descending, flat index ascending).
     */
    private int selectTopK(FloatBuffer cls, FloatBuffer ctr, int n, int level, int numClasses, LevelShape shape,
                           Scratch s) {
        final int hw = shape.points();
        s.heapCap = Math.min(nmsPre, hw * numClasses);
        s.heapSize = 0;
        float bound = staticBound;
        final int[] hits = s.hits;
        // fcos / torchvision: once the heap is full, each point also gets its own logit bound from its centerness
        // (see pointwiseBound / softplusLimit), kept in pointThr and refreshed after HW, 2 HW, 4 HW ... values
        // scanned (the heap's worst key settles early; each refresh costs HW); a stale bound is lower, hence
        // still conservative
        final boolean pointwise = convention != MMDET;
        final float[] pointThr = s.pointThr;
        boolean softplusReady = false;
        boolean pointReady = false;
        int sinceRefresh = 0;
        long refreshEvery = hw;
        float usedPointBound = Float.NEGATIVE_INFINITY;
        float usedSoftplusMax = Float.POSITIVE_INFINITY;
        // Two steps per chunk: a branch-free, call-free loop records the positions that pass the bound (the JIT
        // unrolls it; a loop with the rare call inside measured ~3x slower), then the recorded positions get the
        // exact rule against the current bound. NaN and +Inf fail every "<", so they are always recorded.
        for (int c = 0; c < numClasses; c++) {
            final int base = (n * numClasses + c) * hw;
            for (int p0 = 0; p0 < hw; p0 += CHUNK) {
                final int end = Math.min(p0 + CHUNK, hw);
                int count = 0;
                if (pointReady) {
                    for (int p = p0; p < end; p++) {
                        hits[count] = p;
                        count += cls.get(base + p) < pointThr[p] ? 0 : 1;
                    }
                } else {
                    final float chunkBound = bound;
                    // most chunks of a trained model's map hold no hit: a pure counting pass is cheapest for them
                    for (int p = p0; p < end; p++) {
                        count += cls.get(base + p) < chunkBound ? 0 : 1;
                    }
                    if (count != 0) {
                        count = 0;
                        for (int p = p0; p < end; p++) {
                            hits[count] = p;
                            count += cls.get(base + p) < chunkBound ? 0 : 1;
                        }
                    }
                }
                for (int i = 0; i < count; i++) {
                    int p = hits[i];
                    float v = cls.get(base + p);
                    if (!(v < bound)) {
                        bound = offer(v, p, c, ctr, n, level, numClasses, shape, s, bound);
                    }
                }
                if (pointwise && s.heapSize == s.heapCap) {
                    sinceRefresh += end - p0;
                    if (!softplusReady) {
                        fillSoftplus(ctr, n * hw, hw, s.softplus);
                        softplusReady = true;
                        sinceRefresh = hw;
                    }
                    if (sinceRefresh >= refreshEvery) {
                        float pb = pointwiseBound(s.heapKey[0]);
                        float spMax = softplusLimit(s.heapKey[0]);
                        if (!pointReady || pb > usedPointBound || spMax < usedSoftplusMax) {
                            fillPointThresholds(s.softplus, hw, pb, spMax, pointThr);
                            usedPointBound = pb;
                            usedSoftplusMax = spMax;
                            pointReady = true;
                        }
                        sinceRefresh = 0;
                        refreshEvery *= 2;
                    }
                }
            }
        }
        // heap sort: repeatedly move the worst to the end, leaving the array best first
        final float[] heapKey = s.heapKey;
        final int[] heapIdx = s.heapIdx;
        int size = s.heapSize;
        for (int end = size - 1; end > 0; end--) {
            float k = heapKey[end];
            int i = heapIdx[end];
            heapKey[end] = heapKey[0];
            heapIdx[end] = heapIdx[0];
            siftDown(heapKey, heapIdx, end, 0, k, i);
        }
        return size;
    }

    /**
     * The exact rule for one value that passed the bound (a possible candidate, NaN or +Inf).
     *
     * @return the bound to use from now on
     */
    private float offer(float v, int p, int c, FloatBuffer ctr, int n, int level, int numClasses, LevelShape shape,
                        Scratch s, float bound) {
        if (v != v || v == Float.POSITIVE_INFINITY) {
            throw new InvalidHeadOutputException("tensor cls_" + level + " holds " + v + " at image " + n
                    + ", channel " + c + ", y " + (p / shape.width()) + ", x " + (p % shape.width()));
        }
        float sig = sigmoid(v);
        float key;
        if (convention == MMDET) {
            if (!(sig > threshold)) {
                return bound;
            }
            key = sig;
        } else if (convention == FCOS) {
            if (!(sig > threshold)) {
                return bound;
            }
            key = sig * sigmoid(ctr.get(n * shape.points() + p));
        } else {
            key = (float) Math.sqrt(sig * sigmoid(ctr.get(n * shape.points() + p)));
            if (!(key > threshold)) {
                return bound;
            }
        }
        int flat = p * numClasses + c;
        final float[] heapKey = s.heapKey;
        final int[] heapIdx = s.heapIdx;
        if (s.heapSize < s.heapCap) {
            siftUp(heapKey, heapIdx, s.heapSize, key, flat);
            s.heapSize++;
            if (s.heapSize == s.heapCap) {
                return Math.max(staticBound, dynamicBound(heapKey[0]));
            }
        } else if (key > heapKey[0] || (key == heapKey[0] && flat < heapIdx[0])) {
            siftDown(heapKey, heapIdx, s.heapSize, 0, key, flat);
            return Math.max(staticBound, dynamicBound(heapKey[0]));
        }
        return bound;
    }

    /** a is worse than b: lower key, or equal key and higher flat index. */
    private static boolean worse(float ka, int ia, float kb, int ib) {
        return ka < kb || (ka == kb && ia > ib);
    }

    /** Min-heap (root = worst) insertion of (key, idx) at position {@code pos}. */
    private static void siftUp(float[] keys, int[] idx, int pos, float key, int flat) {
        while (pos > 0) {
            int parent = (pos - 1) >>> 1;
            if (!worse(key, flat, keys[parent], idx[parent])) {
                break;
            }
            keys[pos] = keys[parent];
            idx[pos] = idx[parent];
            pos = parent;
        }
        keys[pos] = key;
        idx[pos] = flat;
    }

    /** Places (key, idx) at {@code pos} of a min-heap of {@code size} and restores the heap below it. */
    private static void siftDown(float[] keys, int[] idx, int size, int pos, float key, int flat) {
        while (true) {
            int child = 2 * pos + 1;
            if (child >= size) {
                break;
            }
            int right = child + 1;
            if (right < size && worse(keys[right], idx[right], keys[child], idx[child])) {
                child = right;
            }
            if (!worse(keys[child], idx[child], key, flat)) {
                break;
            }
            keys[pos] = keys[child];
            idx[pos] = idx[child];
            pos = child;
        }
        keys[pos] = key;
        idx[pos] = flat;
    }

    /**
     * Per-point bound for fcos / torchvision, compared with {@code v - softplus(-ctr)}: a value can reach rank
     * key {@code worst} only if {@code sigmoid(v) >= t / pt} with t = worst (fcos) or about worst^2
     * (torchvision), and {@code logit(t / pt) >= logit(t) - log(pt) = logit(t) + softplus(-ctr)}. The target
     * backs off a relative 1e-6 for the float roundings of the products, square root and sigmoids, and the
     * result 1e-4 (relative, at least absolute) for the rounding of {@code v - softplus}, whose operands are
     * bounded near the threshold (softplus is capped at 64).
     */
    private float pointwiseBound(float worst) {
        double t = convention == TORCHVISION ? (double) squareBelow(Math.nextDown(worst)) : (double) worst;
        float target = (float) (t * (1.0 - 1e-6));
        if ((double) target > t * (1.0 - 1e-6)) {
            target = Math.nextDown(target);
        }
        float l = logitBound(target);
        return l - 1e-4f * (1f + Math.abs(l));
    }

    /**
     * A point whose centerness probability pt is below the key target t (fcos: key = pc * pt <= pt; torchvision:
     * key^2 <= pt) cannot enter whatever its class logit: it is rejected when softplus(-ctr) = -log(pt) exceeds
     * -log(t), computed with the same 1e-6 slack as {@link #pointwiseBound} and rounded up.
     */
    private float softplusLimit(float worst) {
        double t = convention == TORCHVISION ? (double) squareBelow(Math.nextDown(worst)) : (double) worst;
        double limit = -Math.log(t * (1.0 - 1e-6));
        float f = (float) limit;
        if ((double) f < limit) {
            f = Math.nextUp(f);
        }
        return f;
    }

    /**
     * pointThr[p] = +Inf for a point that cannot enter (softplus above the limit), else pb + softplus; the
     * rounding of the sum (operands below ~100 in magnitude) is far inside pointwiseBound's margin.
     */
    private static void fillPointThresholds(float[] softplus, int hw, float pb, float spMax, float[] out) {
        for (int p = 0; p < hw; p++) {
            float sp = softplus[p];
            out[p] = sp > spMax ? Float.POSITIVE_INFINITY : pb + sp;
        }
    }

    /** softplus(-ctr) = -log(sigmoid(ctr)) per point, rounded down, capped at 64 (still a lower bound). */
    private static void fillSoftplus(FloatBuffer ctr, int base, int hw, float[] out) {
        for (int p = 0; p < hw; p++) {
            // log(1 + e) instead of log1p (not intrinsic); for tiny e it rounds to 0, still below the true value
            double sp = Math.log(1.0 + Math.exp(-(double) ctr.get(base + p)));
            sp -= 1e-12 * (1.0 + sp);
            float f = (float) sp;
            if ((double) f > sp) {
                f = Math.nextDown(f);
            }
            out[p] = Math.min(f, 64f);
        }
    }

    /** Logit below which a value cannot reach rank key {@code worst} (conservative). */
    private float dynamicBound(float worst) {
        return convention == TORCHVISION ? logitBound(squareBelow(Math.nextDown(worst))) : logitBound(worst);
    }

    /** A float not above t*t (real product), so that sigmoid(cls) >= it is necessary for sqrt(sig*ctr) > t. */
    static float squareBelow(float t) {
        if (!(t > 0f)) {
            return 0f;
        }
        return Math.nextDown((float) ((double) t * t));
    }

    /**
     * A float L such that every float v below L has sigmoid(v) (as the spec computes it) below s. It backs off
     * one float ulp for the final rounding, a relative 1e-12 for the double arithmetic, then rounds down.
     */
    static float logitBound(float s) {
        if (!(s > 0f)) {
            return Float.NEGATIVE_INFINITY;
        }
        double p = Math.nextDown(s) * (1.0 - 1e-12);
        if (!(p > 0.0)) {
            return Float.NEGATIVE_INFINITY;
        }
        // Math.log is an intrinsic, Math.log1p is not (it dominated dense profiles); 1 - p is exact for
        // p >= 0.5 and relatively accurate below, far inside the margin subtracted next
        double logit = Math.log(p / (1.0 - p));
        logit -= 1e-9 + Math.abs(logit) * 1e-12;
        float f = (float) logit;
        if (f > logit) {
            f = Math.nextDown(f);
        }
        return f;
    }

    /** The spec's sigmoid: computed in double, rounded once to float. */
    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-(double) x)));
    }

    // ------------------------------------------------------------------------------------------------------ NMS

    /**
     * Greedy class-aware NMS over candidates {@code 0..count) (in concatenation order). Candidates are popped from
     * a max-heap on (score, -order), which is a stable descending sort done lazily: it stops after maxDetections
     * kept. Leaves the kept candidate indices in {@code s.kept}, in output order.
     */
    private int nms(Scratch s, int count) {
        final long[] heap = s.order;
        for (int i = 0; i < count; i++) {
            // scores are >= 0 (never NaN), so their raw bits order like the values; low word: ~order
            heap[i] = ((long) Float.floatToRawIntBits(s.cScore[i]) << 32) | (0xFFFFFFFFL - i);
        }
        for (int i = (count >>> 1) - 1; i >= 0; i--) {
            longSiftDown(heap, count, i, heap[i]);
        }
        final float offset = convention == FCOS ? 1f : 0f;
        final float thr = iouThreshold;
        final float[] x1 = s.cx1;
        final float[] y1 = s.cy1;
        final float[] x2 = s.cx2;
        final float[] y2 = s.cy2;
        final int[] cls = s.cClass;
        final int[] kept = s.kept;
        int size = count;
        int numKept = 0;
        while (size > 0 && numKept < maxDetections) {
            long top = heap[0];
            size--;
            if (size > 0) {
                longSiftDown(heap, size, 0, heap[size]);
            }
            int i = (int) (0xFFFFFFFFL - (top & 0xFFFFFFFFL));
            float bx1 = x1[i];
            float by1 = y1[i];
            float bx2 = x2[i];
            float by2 = y2[i];
            float areaB = (bx2 - bx1 + offset) * (by2 - by1 + offset);
            boolean suppressed = false;
            for (int j = 0; j < numKept; j++) {
                int a = kept[j];
                if (cls[a] != cls[i]) {
                    continue;
                }
                float ax1 = x1[a];
                float ay1 = y1[a];
                float ax2 = x2[a];
                float ay2 = y2[a];
                float iw = Math.min(ax2, bx2) - Math.max(ax1, bx1) + offset;
                float ih = Math.min(ay2, by2) - Math.max(ay1, by1) + offset;
                iw = iw > 0f ? iw : 0f;
                ih = ih > 0f ? ih : 0f;
                float inter = iw * ih;
                float areaA = (ax2 - ax1 + offset) * (ay2 - ay1 + offset);
                float iou = inter / (areaA + areaB - inter);
                if (iou > thr) {
                    suppressed = true;
                    break;
                }
            }
            if (!suppressed) {
                kept[numKept++] = i;
            }
        }
        return numKept;
    }

    private static void longSiftDown(long[] heap, int size, int pos, long value) {
        while (true) {
            int child = 2 * pos + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] > heap[child]) {
                child++;
            }
            if (heap[child] <= value) {
                break;
            }
            heap[pos] = heap[child];
            pos = child;
        }
        heap[pos] = value;
    }

    // -------------------------------------------------------------------------------------------------- scratch

    /** Per-thread work arrays, grown on demand and then reused. */
    private static final class Scratch {
        float[] heapKey = new float[0];
        int[] heapIdx = new int[0];
        int heapSize;
        int heapCap;
        final int[] hits = new int[CHUNK];
        float[] softplus = new float[0];
        float[] pointThr = new float[0];
        float[] cx1 = new float[0];
        float[] cy1 = new float[0];
        float[] cx2 = new float[0];
        float[] cy2 = new float[0];
        float[] cScore = new float[0];
        int[] cClass = new int[0];
        long[] order = new long[0];
        int[] kept = new int[0];
        DetectionArrays output;

        void ensure(HeadTensors heads, int nmsPre, int maxDetections) {
            int perLevelMax = 0;
            long total = 0;
            for (int l = 0; l < heads.numLevels(); l++) {
                int k = (int) Math.min(nmsPre, (long) heads.level(l).points() * heads.numClasses());
                perLevelMax = Math.max(perLevelMax, k);
                total += k;
            }
            int maxPoints = 0;
            for (int l = 0; l < heads.numLevels(); l++) {
                maxPoints = Math.max(maxPoints, heads.level(l).points());
            }
            if (softplus.length < maxPoints) {
                softplus = new float[maxPoints];
                pointThr = new float[maxPoints];
            }
            if (heapKey.length < perLevelMax) {
                heapKey = new float[perLevelMax];
                heapIdx = new int[perLevelMax];
            }
            if (cx1.length < total) {
                int t = (int) Math.min(total, Integer.MAX_VALUE - 8);
                cx1 = new float[t];
                cy1 = new float[t];
                cx2 = new float[t];
                cy2 = new float[t];
                cScore = new float[t];
                cClass = new int[t];
                order = new long[t];
            }
            if (kept.length < maxDetections) {
                kept = new int[maxDetections];
            }
        }

        DetectionArrays output(int batch, int maxDetections) {
            if (output == null || output.maxBatch() < batch || output.maxDetections() < maxDetections) {
                output = new DetectionArrays(batch, maxDetections);
            }
            return output;
        }
    }
}
