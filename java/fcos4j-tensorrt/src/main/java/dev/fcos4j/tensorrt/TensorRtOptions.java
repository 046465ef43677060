package dev.fcos4j.tensorrt;

import dev.fcos4j.ConfigurationException;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Options of the TensorRT backend, as given to {@link dev.fcos4j.Detector.Builder#backendOption} (string keys) or
 * built directly.
 *
 * @param precision   arithmetic inside the engine ({@code precision}: fp32, fp16; default fp32)
 * @param engineCache directory of built engines ({@code engine_cache}; default {@code ~/.cache/fcos4j/tensorrt})
 * @param maxBatch    largest batch of the optimization profile ({@code max_batch}, 1..256; default 8)
 * @param maxHeight   largest padded input height ({@code max_height}, a multiple of 32 in 32..8192; default 1344)
 * @param maxWidth    largest padded input width ({@code max_width}, likewise; default 1344)
 * @param device      CUDA device index ({@code device}; default 0)
 * @param contexts    execution contexts, i.e. runs at once ({@code contexts}, 1..16; default 1). TensorRT lets one
 *                    optimization profile serve one context at a time, so an engine is built with this many
 *                    identical profiles
 * @param given       the keys set explicitly (a {@code .plan} file checks them against its own profile)
 */
public record TensorRtOptions(Precision precision, Path engineCache, int maxBatch, int maxHeight, int maxWidth,
                              int device, int contexts, Set<String> given) {
    public static final String PRECISION = "precision";
    public static final String ENGINE_CACHE = "engine_cache";
    public static final String MAX_BATCH = "max_batch";
    public static final String MAX_HEIGHT = "max_height";
    public static final String MAX_WIDTH = "max_width";
    public static final String DEVICE = "device";
    public static final String CONTEXTS = "contexts";
    /** Every accepted key, in documentation order. */
    public static final List<String> KEYS = List.of(PRECISION, ENGINE_CACHE, MAX_BATCH, MAX_HEIGHT, MAX_WIDTH, DEVICE,
            CONTEXTS);

    /** The smallest input side of the optimization profile (one stride-32 cell). */
    public static final int MIN_SIDE = 32;

    public TensorRtOptions {
        Objects.requireNonNull(precision, PRECISION);
        Objects.requireNonNull(engineCache, ENGINE_CACHE);
        range(MAX_BATCH, maxBatch, 1, 256);
        side(MAX_HEIGHT, maxHeight);
        side(MAX_WIDTH, maxWidth);
        range(DEVICE, device, 0, 1023);
        range(CONTEXTS, contexts, 1, 16);
        given = Set.copyOf(given);
    }

    /** The defaults: fp32, the user cache directory, batch 8, 1344 x 1344, device 0, 1 context. */
    public static TensorRtOptions defaults() {
        return new TensorRtOptions(Precision.FP32, defaultCache(), 8, 1344, 1344, 0, 1, Set.of());
    }

    /** {@code ~/.cache/fcos4j/tensorrt} ({@code $XDG_CACHE_HOME/fcos4j/tensorrt} when that is set). */
    public static Path defaultCache() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("fcos4j").resolve("tensorrt");
    }

    /**
     * Reads string options over the defaults.
     *
     * @throws ConfigurationException naming an unknown key (and the known ones) or a bad value (and its range)
     */
    public static TensorRtOptions parse(Map<String, String> options) {
        TensorRtOptions d = defaults();
        Precision precision = d.precision;
        Path cache = d.engineCache;
        int maxBatch = d.maxBatch;
        int maxHeight = d.maxHeight;
        int maxWidth = d.maxWidth;
        int device = d.device;
        int contexts = d.contexts;
        Set<String> given = new LinkedHashSet<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            switch (key) {
                case PRECISION -> precision = Precision.parse(value);
                case ENGINE_CACHE -> {
                    if (value == null || value.isBlank()) {
                        throw new ConfigurationException("TensorRT option " + ENGINE_CACHE + " must name a directory");
                    }
                    cache = Path.of(value);
                }
                case MAX_BATCH -> maxBatch = integer(key, value);
                case MAX_HEIGHT -> maxHeight = integer(key, value);
                case MAX_WIDTH -> maxWidth = integer(key, value);
                case DEVICE -> device = integer(key, value);
                case CONTEXTS -> contexts = integer(key, value);
                default -> throw new ConfigurationException("unknown TensorRT backend option '" + key + "' (known: "
                        + String.join(", ", KEYS) + ")");
            }
            given.add(key);
        }
        return new TensorRtOptions(precision, cache, maxBatch, maxHeight, maxWidth, device, contexts, given);
    }

    private static int integer(String key, String value) {
        try {
            return Integer.parseInt(value == null ? "" : value.trim());
        } catch (NumberFormatException e) {
            throw new ConfigurationException("TensorRT option " + key + " must be an integer, got '" + value + "'", e);
        }
    }

    private static void range(String key, int value, int min, int max) {
        if (value < min || value > max) {
            throw new ConfigurationException("TensorRT option " + key + " must be in " + min + ".." + max + ", got "
                    + value);
        }
    }

    private static void side(String key, int value) {
        range(key, value, MIN_SIDE, 8192);
        if (value % 32 != 0) {
            throw new ConfigurationException("TensorRT option " + key + " must be a multiple of 32 (inputs are padded "
                    + "to one), got " + value);
        }
    }

    /** The options with another precision (and it marked as given). */
    public TensorRtOptions withPrecision(Precision value) {
        Set<String> g = new LinkedHashSet<>(given);
        g.add(PRECISION);
        return new TensorRtOptions(value, engineCache, maxBatch, maxHeight, maxWidth, device, contexts, g);
    }

    /**
     * The profile's most frequent shape, which TensorRT tunes for: one image, landscape 800 x max width (the mmdet
     * 1333 x 800 scale), capped by the maxima.
     */
    public int optHeight() {
        return Math.min(maxHeight, 800);
    }

    /** See {@link #optHeight()}. */
    public int optWidth() {
        return maxWidth;
    }

    /**
     * The optimization profile of input {@code images} [N,3,H,W] for its declared dimensions ({@code -1} = dynamic),
     * as {min, opt, max}: dynamic dimensions get [1..maxBatch] and [32..max] (opt: batch 1, {@link #optHeight()} x
     * {@link #optWidth()}); fixed ones stay as exported.
     */
    public long[][] profileBounds(long[] declared) {
        long[] min = new long[4];
        long[] opt = new long[4];
        long[] max = new long[4];
        long[][] ranges = {{1, 1, maxBatch}, {3, 3, 3},
                {MIN_SIDE, optHeight(), maxHeight},
                {MIN_SIDE, optWidth(), maxWidth}};
        for (int i = 0; i < 4; i++) {
            boolean fixed = declared[i] >= 0;
            min[i] = fixed ? declared[i] : ranges[i][0];
            opt[i] = fixed ? declared[i] : ranges[i][1];
            max[i] = fixed ? declared[i] : ranges[i][2];
        }
        return new long[][] {min, opt, max};
    }
}
