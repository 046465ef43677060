package dev.fcos4j.preprocess;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.ResourceClosedException;
import dev.fcos4j.memory.DirectBufferPool;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import static org.bytedeco.opencv.global.opencv_core.CV_32FC3;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

/**
 * Turns images into the network input of the model contract: keep-ratio resize per
 * {@link PreprocessConfig.ResizePolicy}, normalization per {@link PreprocessConfig}, zero padding (after
 * normalizing) of every image of a batch to the batch's largest size rounded up to the size divisor.
 *
 * <p>Each policy follows its upstream project step by step:
 * <ul>
 *   <li>{@code MMDET} (mmcv {@code imrescale} + mmdet {@code DetDataPreprocessor}): size from
 *       {@link #resizedSize}, the 8-bit image resized with OpenCV {@code INTER_LINEAR} (mmcv's
 *       {@code 'bilinear'}), then normalized in float32: {@code (p / inputScale - mean) / std}.</li>
 *   <li>{@code TORCHVISION} ({@code GeneralizedRCNNTransform}): normalized first in float32, then resized in
 *       float with OpenCV {@code INTER_LINEAR}. torch's {@code interpolate(bilinear, align_corners=False,
 *       antialias=False)} uses the same sampling grid (source = (dst + 0.5) * in / out - 0.5, clamped at the
 *       borders), so the two agree up to rounding, not bit for bit: torch computes the source positions in
 *       float, OpenCV in double. Against torch 1.13 / torchvision 0.14 the largest difference was 2e-5 on
 *       scikit-image's chelsea.png and 2.5e-5 on random noise, for values in about [-2.2, 2.7]
 *       (PreprocessorTorchvisionTest keeps the noise case).</li>
 *   <li>{@code NONE}: normalized at the decoded size.</li>
 * </ul>
 *
 * <p>The result is a direct, native-order {@link FloatBuffer} (ONNX Runtime wraps it without a copy) taken from
 * a small pool: {@link #release} hands it back, so a steady stream of calls allocates no native memory and, apart
 * from one row of values and the encoded file, no Java arrays the size of an image (resized images stay in
 * OpenCV's native memory, freed before the call returns). Thread-safe: a call keeps its native images to itself.
 * {@link #close()} drops the idle buffers and marks the instance unusable.
 */
public final class Preprocessor implements AutoCloseable {
    /** Idle input buffers kept: enough for a few threads' batches, never more than 512 MiB. */
    private static final int IDLE_BUFFERS = 4;
    private static final long IDLE_BYTES = 512L << 20;

    private final PreprocessConfig config;
    private final DirectBufferPool inputBuffers = new DirectBufferPool("preprocessed input", IDLE_BUFFERS, IDLE_BYTES);
    private volatile boolean closed;

    /** @param config how to resize, normalize and pad (usually from the model metadata) */
    public Preprocessor(PreprocessConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /** The configuration this preprocessor applies. */
    public PreprocessConfig config() {
        return config;
    }

    /**
     * The size an image of {@code height} x {@code width} is resized to (before padding) under {@code config}.
     * <ul>
     *   <li>MMDET, as mmcv {@code rescale_size} in double precision: long = max(maxLongSide, maxShortSide),
     *       short = the min of them, scale = min(long / max(h, w), short / min(h, w)),
     *       size = (int) (side * scale + 0.5).</li>
     *   <li>TORCHVISION, as {@code _resize_image_and_masks} + {@code interpolate(recompute_scale_factor=True)}:
     *       scale = min(maxShortSide * (1 / min(h, w)), maxLongSide * (1 / max(h, w))) in float32 (torch divides a
     *       number by a tensor as reciprocal-then-multiply), size = floor(side * (double) scale).</li>
     *   <li>NONE: the image's own size.</li>
     * </ul>
     * A side that would round to 0 (extreme aspect ratios) becomes 1, where upstream would fail.
     */
    public static ImageMeta resizedSize(int height, int width, PreprocessConfig config) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        int newH;
        int newW;
        switch (config.resizePolicy()) {
            case MMDET -> {
                double longEdge = Math.max(config.maxLongSide(), config.maxShortSide());
                double shortEdge = Math.min(config.maxLongSide(), config.maxShortSide());
                double scale = Math.min(longEdge / Math.max(height, width), shortEdge / Math.min(height, width));
                newW = (int) (width * scale + 0.5);
                newH = (int) (height * scale + 0.5);
            }
            case TORCHVISION -> {
                float minSide = Math.min(height, width);
                float maxSide = Math.max(height, width);
                float scale = Math.min((1f / minSide) * (float) config.maxShortSide(),
                        (1f / maxSide) * (float) config.maxLongSide());
                newH = (int) Math.floor((double) height * (double) scale);
                newW = (int) Math.floor((double) width * (double) scale);
            }
            case NONE -> {
                newH = height;
                newW = width;
            }
            default -> throw new IllegalStateException("unhandled resize policy " + config.resizePolicy());
        }
        return new ImageMeta(height, width, Math.max(1, newH), Math.max(1, newW));
    }

    /**
     * Reads, decodes and preprocesses image files as one batch. Each decoded original is freed as soon as it
     * is resized, so only one full-size image is held at a time.
     *
     * @throws dev.fcos4j.ImageDecodeException naming the first file that is missing, empty or not an image
     */
    public ImageBatch preprocessFiles(List<Path> files) {
        return preprocess(files, (file, i) -> Images.readBgr(file));
    }

    /**
     * Decodes and preprocesses encoded images (file contents) as one batch.
     *
     * @throws dev.fcos4j.ImageDecodeException naming the image as {@code "encoded image #i"} (i from 0) and its size
     */
    public ImageBatch preprocessEncoded(List<byte[]> encoded) {
        return preprocess(encoded, (bytes, i) -> Images.decodeBgr(bytes, "encoded image #" + i));
    }

    /** Preprocesses in-memory images as one batch (see {@link Images#fromBufferedImage} for the pixel rules). */
    public ImageBatch preprocessImages(List<BufferedImage> images) {
        return preprocess(images, (image, i) -> Images.fromBufferedImage(image, "image #" + i));
    }

    /**
     * Preprocesses OpenCV images (8-bit BGR, BGRA or gray, the layout {@code imread} gives) as one batch. The
     * caller keeps ownership of the Mats.
     */
    public ImageBatch preprocessMats(List<Mat> images) {
        return preprocess(images, (mat, i) -> Images.toBgr(mat, "Mat #" + i));
    }

    /** Turns input #i into a new BGR Mat owned by the caller. */
    private interface Decoder<T> {
        Mat decode(T input, int index);
    }

    /** Decodes and resizes the inputs one at a time (one full-size original at a time), then assembles the batch. */
    private <T> ImageBatch preprocess(List<T> inputs, Decoder<T> decoder) {
        ensureOpen();
        requireNonEmpty(inputs);
        List<Prepared> prepared = new ArrayList<>(inputs.size());
        try {
            for (int i = 0; i < inputs.size(); i++) {
                try (Mat bgr = decoder.decode(inputs.get(i), i)) {
                    prepared.add(prepare(bgr));
                }
            }
            return assemble(prepared);
        } finally {
            closeAll(prepared);
        }
    }

    /**
     * Hands a batch's buffer back for reuse by a later call. Optional (a batch never released is collected like
     * any object) but it keeps a steady stream of calls from allocating native memory; {@link dev.fcos4j.Detector}
     * releases every batch it runs. The batch's data must not be used afterwards. Batches from elsewhere, and a
     * second release, are ignored.
     */
    public void release(ImageBatch batch) {
        if (batch != null) {
            inputBuffers.release(batch.data());
        }
    }

    /** The pool behind the batches' buffers (for tests and diagnostics). */
    DirectBufferPool inputBuffers() {
        return inputBuffers;
    }

    /** Marks this preprocessor closed and drops its idle buffers; idempotent. Later calls throw {@link ResourceClosedException}. */
    @Override
    public void close() {
        closed = true;
        inputBuffers.clear();
    }

    /**
     * One image resized, not yet padded, in native memory owned by this record: 8-bit BGR pixels still to normalize
     * (MMDET, NONE), or normalized float32 values interleaved in output channel order (TORCHVISION normalizes
     * before resizing). Continuous, {@code meta.resizedHeight() x meta.resizedWidth()}.
     */
    private record Prepared(ImageMeta meta, Mat pixels, boolean normalized) implements AutoCloseable {
        @Override
        public void close() {
            pixels.close();
        }
    }

    private static void closeAll(List<Prepared> prepared) {
        for (Prepared p : prepared) {
            p.close();
        }
    }

    /** Resizes one decoded BGR image per the policy; the Mat stays owned by the caller. */
    private Prepared prepare(Mat bgr) {
        if (!bgr.isContinuous()) {
            try (Mat continuous = bgr.clone()) {
                return prepare(continuous);
            }
        }
        ImageMeta meta = resizedSize(bgr.rows(), bgr.cols(), config);
        if (config.resizePolicy() == PreprocessConfig.ResizePolicy.TORCHVISION) {
            return new Prepared(meta, normalizeThenResize(bgr, meta), true);
        }
        return new Prepared(meta, resize8(bgr, meta), false);
    }

    /**
     * Pads the prepared images into one NCHW buffer from the pool, normalizing the 8-bit ones. Every value is
     * written, the zero padding included, since a reused buffer holds its last batch.
     */
    private ImageBatch assemble(List<Prepared> prepared) {
        int n = prepared.size();
        List<ImageMeta> metas = new ArrayList<>(n);
        int maxH = 0;
        int maxW = 0;
        for (Prepared p : prepared) {
            metas.add(p.meta());
            maxH = Math.max(maxH, p.meta().resizedHeight());
            maxW = Math.max(maxW, p.meta().resizedWidth());
        }
        int div = config.sizeDivisor();
        long padH = (maxH + (long) div - 1) / div * div;
        long padW = (maxW + (long) div - 1) / div * div;
        long values = n * 3L * padH * padW;
        if (values * Float.BYTES > Integer.MAX_VALUE - (2 << 20)) {
            throw new ConfigurationException("a batch of " + n + " images padded to " + padW + "x" + padH + " needs "
                    + values * Float.BYTES + " bytes, more than one buffer holds: use smaller batches or a resize policy");
        }
        FloatBuffer data = inputBuffers.acquireFloats((int) values);
        int plane = (int) (padH * padW);
        float[] row = new float[(int) padW];
        for (int i = 0; i < n; i++) {
            Prepared p = prepared.get(i);
            writePlanes(p, data, i * 3 * plane, (int) padH, (int) padW, row);
        }
        return new ImageBatch(data, (int) padH, (int) padW, metas);
    }

    /** Source channel (in BGR) feeding output channel c. */
    private int sourceChannel(int c) {
        return config.channelOrder() == PreprocessConfig.ChannelOrder.BGR ? c : 2 - c;
    }

    /** mmdet order, first half: resize the 8-bit image (OpenCV INTER_LINEAR, as mmcv's 'bilinear'). */
    private static Mat resize8(Mat bgr, ImageMeta meta) {
        int h = meta.resizedHeight();
        int w = meta.resizedWidth();
        Mat resized = new Mat();
        if (h == bgr.rows() && w == bgr.cols()) {
            bgr.copyTo(resized);
            return resized;
        }
        try (Size size = new Size(w, h)) {
            resize(bgr, resized, size, 0, 0, INTER_LINEAR);
        }
        return resized;
    }

    /**
     * Writes one image's three planes, padding included: mmdet order normalizes the 8-bit pixels in float32 on the
     * way; torchvision order copies its already normalized values. {@code row} holds {@code padW} values and ends
     * in zeros beyond the image's width.
     */
    private void writePlanes(Prepared p, FloatBuffer out, int base, int padH, int padW, float[] row) {
        int h = p.meta().resizedHeight();
        int w = p.meta().resizedWidth();
        int plane = padH * padW;
        Arrays.fill(row, 0f);
        if (p.normalized()) {
            FloatBuffer values = p.pixels().createBuffer();
            float[] src = new float[w * 3];
            for (int y = 0; y < h; y++) {
                values.get(y * w * 3, src);
                for (int c = 0; c < 3; c++) {
                    for (int x = 0, q = c; x < w; x++, q += 3) {
                        row[x] = src[q];
                    }
                    out.put(base + c * plane + y * padW, row);
                }
            }
        } else {
            ByteBuffer pixels = p.pixels().createBuffer();
            byte[] src = new byte[w * 3];
            float scale = config.inputScale();
            float[] mean = config.mean();
            float[] std = config.std();
            for (int y = 0; y < h; y++) {
                pixels.get(y * w * 3, src);
                for (int c = 0; c < 3; c++) {
                    float m = mean[c];
                    float s = std[c];
                    for (int x = 0, q = sourceChannel(c); x < w; x++, q += 3) {
                        row[x] = ((src[q] & 0xFF) / scale - m) / s;
                    }
                    out.put(base + c * plane + y * padW, row);
                }
            }
        }
        Arrays.fill(row, 0f);
        for (int c = 0; c < 3; c++) {
            for (int y = h; y < padH; y++) {
                out.put(base + c * plane + y * padW, row);
            }
        }
    }

    /** torchvision order: normalize in float32 at the decoded size, then resize the float image. */
    private Mat normalizeThenResize(Mat bgr, ImageMeta meta) {
        int oh = bgr.rows();
        int ow = bgr.cols();
        float scale = config.inputScale();
        float[] mean = config.mean();
        float[] std = config.std();
        // Interleaved in output channel order, so the resized planes come out ready to scatter.
        Mat normalized = new Mat(oh, ow, CV_32FC3);
        try {
            ByteBuffer pixels = bgr.createBuffer();
            FloatBuffer values = normalized.createBuffer();
            byte[] src = new byte[ow * 3];
            float[] dst = new float[ow * 3];
            for (int y = 0; y < oh; y++) {
                pixels.get(y * ow * 3, src);
                for (int c = 0; c < 3; c++) {
                    float m = mean[c];
                    float s = std[c];
                    for (int x = 0, q = sourceChannel(c); x < ow; x++, q += 3) {
                        dst[3 * x + c] = ((src[q] & 0xFF) / scale - m) / s;
                    }
                }
                values.put(y * ow * 3, dst);
            }
            int h = meta.resizedHeight();
            int w = meta.resizedWidth();
            if (h == oh && w == ow) {
                Mat same = normalized;
                normalized = null;
                return same;
            }
            Mat resized = new Mat();
            try (Size size = new Size(w, h)) {
                resize(normalized, resized, size, 0, 0, INTER_LINEAR);
            }
            return resized;
        } finally {
            if (normalized != null) {
                normalized.close();
            }
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new ResourceClosedException("Preprocessor is closed");
        }
    }

    private static void requireNonEmpty(List<?> inputs) {
        if (inputs == null || inputs.isEmpty()) {
            throw new IllegalArgumentException("no images to preprocess: the list is null or empty");
        }
    }
}
