package dev.fcos4j.preprocess;

import dev.fcos4j.ImageDecodeException;
import dev.fcos4j.ResourceClosedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PreprocessorTest {
    private static final float[] MEAN = {10f, 20f, 30f};
    private static final float[] STD = {2f, 4f, 8f};

    @TempDir
    Path tmp;

    // ---------- resize geometry ----------

    /** {h, w, newH, newW}: mmcv.rescale_size((w, h), (1333, 800)) evaluated in CPython. */
    private static final int[][] MMCV_SIZES = {
            {480, 640, 800, 1067}, {427, 640, 800, 1199}, {640, 427, 1199, 800}, {333, 500, 800, 1201},
            {1, 1, 800, 800}, {800, 1333, 800, 1333}, {1000, 1000, 800, 800}, {375, 500, 800, 1067},
            {612, 612, 800, 800}, {457, 640, 800, 1120}, {300, 451, 800, 1203}, {2000, 3000, 800, 1200},
            {100, 2000, 67, 1333}, {479, 640, 800, 1069}, {631, 640, 800, 811}};

    /** {h, w, newH, newW}: output shape of torchvision 0.14 _resize_image_and_masks(img, 800.0, 1333.0) on torch 1.13. */
    private static final int[][] TORCHVISION_SIZES = {
            {480, 640, 800, 1066}, {427, 640, 799, 1199}, {640, 427, 1199, 799}, {333, 500, 799, 1201},
            {1, 1, 800, 800}, {800, 1333, 800, 1333}, {1000, 1000, 800, 800}, {375, 500, 799, 1066},
            {612, 612, 800, 800}, {457, 640, 800, 1120}, {300, 451, 800, 1202}, {2000, 3000, 800, 1200},
            {100, 2000, 66, 1333}, {479, 640, 800, 1068}, {631, 640, 800, 811},
            // sizes where torch's reciprocal-then-multiply differs from a plain float division
            {3, 3, 800, 800}, {6, 9, 800, 1200}, {7, 10, 800, 1142}, {9, 9, 800, 800}};

    @Test
    void mmdetSizesFollowMmcvRescaleSize() {
        for (int[] c : MMCV_SIZES) {
            ImageMeta m = Preprocessor.resizedSize(c[0], c[1], PreprocessConfig.mmdetCaffe());
            assertEquals(new ImageMeta(c[0], c[1], c[2], c[3]), m, "size " + c[0] + "x" + c[1]);
        }
    }

    @Test
    void torchvisionSizesFollowGeneralizedRcnnTransform() {
        for (int[] c : TORCHVISION_SIZES) {
            ImageMeta m = Preprocessor.resizedSize(c[0], c[1], PreprocessConfig.torchvision());
            assertEquals(new ImageMeta(c[0], c[1], c[2], c[3]), m, "size " + c[0] + "x" + c[1]);
        }
    }

    @Test
    void noneKeepsSizeAndExtremeAspectRatiosKeepOnePixel() {
        assertEquals(ImageMeta.unscaled(37, 5), Preprocessor.resizedSize(37, 5, config(PreprocessConfig.ChannelOrder.BGR,
                1f, PreprocessConfig.ResizePolicy.NONE)));
        ImageMeta thin = Preprocessor.resizedSize(1, 100_000, PreprocessConfig.mmdetCaffe());
        assertEquals(1, thin.resizedHeight());
        assertEquals(1333, thin.resizedWidth());
    }

    // ---------- real JPEGs ----------

    private static List<Path> cocoImages(int count) throws IOException {
        String shared = System.getProperty("fcos4j.shared", "../shared");
        Path dir = Paths.get(shared, "data", "coco-images", "images");
        assumeTrue(Files.isDirectory(dir), "shared COCO images absent (" + dir + "), skipping");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(count).toList();
        }
    }

    @Test
    void realJpegBatchHasPolicySizesPaddingZerosAndMetas() throws IOException {
        List<Path> files = cocoImages(4);
        for (PreprocessConfig cfg : List.of(PreprocessConfig.mmdetCaffe(), PreprocessConfig.torchvision())) {
            try (Preprocessor pre = new Preprocessor(cfg)) {
                ImageBatch batch = pre.preprocessFiles(files);
                assertTrue(batch.data().isDirect());
                assertEquals(files.size(), batch.size());
                int maxH = 0;
                int maxW = 0;
                for (int i = 0; i < files.size(); i++) {
                    // Original size from an independent decoder (Java ImageIO).
                    BufferedImage ref = ImageIO.read(files.get(i).toFile());
                    int h = ref.getHeight();
                    int w = ref.getWidth();
                    int[] expected = independentResize(h, w, cfg.resizePolicy());
                    ImageMeta meta = batch.metas().get(i);
                    assertEquals(new ImageMeta(h, w, expected[0], expected[1]), meta, files.get(i).toString());
                    maxH = Math.max(maxH, expected[0]);
                    maxW = Math.max(maxW, expected[1]);
                }
                assertEquals((maxH + 31) / 32 * 32, batch.height());
                assertEquals((maxW + 31) / 32 * 32, batch.width());
                assertPaddingZeroAndContentVaried(batch);
            }
        }
    }

    /** The two resize rules written out again from their upstream definitions (for 1333 x 800). */
    private static int[] independentResize(int h, int w, PreprocessConfig.ResizePolicy policy) {
        if (policy == PreprocessConfig.ResizePolicy.MMDET) {
            double scale = Math.min(1333.0 / Math.max(h, w), 800.0 / Math.min(h, w));
            return new int[] {(int) Math.floor(h * scale + 0.5), (int) Math.floor(w * scale + 0.5)};
        }
        float recipMin = 1f / (float) Math.min(h, w);
        float recipMax = 1f / (float) Math.max(h, w);
        float scale = Math.min(recipMin * 800f, recipMax * 1333f);
        return new int[] {(int) Math.floor(h * (double) scale), (int) Math.floor(w * (double) scale)};
    }

    private static void assertPaddingZeroAndContentVaried(ImageBatch batch) {
        FloatBuffer d = batch.data();
        int hw = batch.height() * batch.width();
        for (int i = 0; i < batch.size(); i++) {
            ImageMeta m = batch.metas().get(i);
            for (int c = 0; c < 3; c++) {
                float min = Float.MAX_VALUE;
                float max = -Float.MAX_VALUE;
                for (int y = 0; y < batch.height(); y++) {
                    for (int x = 0; x < batch.width(); x++) {
                        float v = d.get((i * 3 + c) * hw + y * batch.width() + x);
                        if (y >= m.resizedHeight() || x >= m.resizedWidth()) {
                            assertEquals(0f, v, "padding at image " + i + " c" + c + " y" + y + " x" + x);
                        } else {
                            assertTrue(Float.isFinite(v));
                            min = Math.min(min, v);
                            max = Math.max(max, v);
                        }
                    }
                }
                assertTrue(max - min > 1e-3f, "image " + i + " channel " + c + " is constant");
            }
        }
    }

    // ---------- normalization of known pixels ----------

    private static PreprocessConfig config(PreprocessConfig.ChannelOrder order, float scale,
                                           PreprocessConfig.ResizePolicy policy) {
        return new PreprocessConfig(order, scale, MEAN, STD, policy, 1333, 800, 32);
    }

    private static byte[] png(BufferedImage image) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            assertTrue(ImageIO.write(image, "png", out));
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BufferedImage randomRgb(int h, int w, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        return img;
    }

    private static float value(ImageBatch b, int image, int c, int y, int x) {
        return b.data().get(((image * 3 + c) * b.height() + y) * b.width() + x);
    }

    @Test
    void normalizesKnownPixelsInBothChannelOrders() {
        BufferedImage img = randomRgb(5, 7, 1);
        byte[] encoded = png(img);
        for (PreprocessConfig.ChannelOrder order : PreprocessConfig.ChannelOrder.values()) {
            for (float scale : new float[] {1f, 255f}) {
                try (Preprocessor pre = new Preprocessor(config(order, scale, PreprocessConfig.ResizePolicy.NONE))) {
                    ImageBatch b = pre.preprocessEncoded(List.of(encoded));
                    assertEquals(32, b.height());
                    assertEquals(32, b.width());
                    assertEquals(ImageMeta.unscaled(5, 7), b.metas().get(0));
                    for (int y = 0; y < 5; y++) {
                        for (int x = 0; x < 7; x++) {
                            int rgb = img.getRGB(x, y);
                            int[] rgbv = {(rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF};
                            for (int c = 0; c < 3; c++) {
                                int p = order == PreprocessConfig.ChannelOrder.RGB ? rgbv[c] : rgbv[2 - c];
                                float expected = (p / scale - MEAN[c]) / STD[c];
                                assertEquals(expected, value(b, 0, c, y, x), 0f, order + " c" + c + " y" + y + " x" + x);
                            }
                        }
                    }
                }
            }
        }
    }

    // ---------- resize values ----------

    /** Bilinear, align_corners=False, edge-clamped (torch's and OpenCV's grid), in double, on one plane. */
    private static double bilinear(double[][] src, int outH, int outW, int y, int x) {
        int h = src.length;
        int w = src[0].length;
        double sy = Math.max((y + 0.5) * h / outH - 0.5, 0);
        double sx = Math.max((x + 0.5) * w / outW - 0.5, 0);
        int y0 = Math.min((int) sy, h - 1);
        int x0 = Math.min((int) sx, w - 1);
        int y1 = Math.min(y0 + 1, h - 1);
        int x1 = Math.min(x0 + 1, w - 1);
        double fy = sy - y0;
        double fx = sx - x0;
        return (1 - fy) * ((1 - fx) * src[y0][x0] + fx * src[y0][x1]) + fy * ((1 - fx) * src[y1][x0] + fx * src[y1][x1]);
    }

    private static double[][] plane(BufferedImage img, int shift) {
        double[][] p = new double[img.getHeight()][img.getWidth()];
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                p[y][x] = (img.getRGB(x, y) >> shift) & 0xFF;
            }
        }
        return p;
    }

    @Test
    void resizedValuesMatchAnIndependentBilinear() {
        BufferedImage img = randomRgb(30, 45, 7);
        byte[] encoded = png(img);
        // mmdet: 8-bit fixed-point resize, then normalize: within one grey level of exact bilinear.
        // torchvision: float resize of normalized values: within float rounding of exact bilinear.
        for (PreprocessConfig.ResizePolicy policy : List.of(PreprocessConfig.ResizePolicy.MMDET,
                PreprocessConfig.ResizePolicy.TORCHVISION)) {
            PreprocessConfig cfg = new PreprocessConfig(PreprocessConfig.ChannelOrder.RGB, 1f, MEAN, STD, policy, 100, 50, 32);
            try (Preprocessor pre = new Preprocessor(cfg)) {
                ImageBatch b = pre.preprocessEncoded(List.of(encoded));
                ImageMeta m = b.metas().get(0);
                assertEquals(new ImageMeta(30, 45, 50, 75), m, policy.toString());
                double tolerance = policy == PreprocessConfig.ResizePolicy.MMDET ? 1.0 : 1e-3;
                for (int c = 0; c < 3; c++) {
                    double[][] src = plane(img, 16 - 8 * c);
                    for (int y = 0; y < m.resizedHeight(); y++) {
                        for (int x = 0; x < m.resizedWidth(); x++) {
                            double pixel = bilinear(src, m.resizedHeight(), m.resizedWidth(), y, x);
                            double got = value(b, 0, c, y, x) * STD[c] + MEAN[c];
                            assertEquals(pixel, got, tolerance, policy + " c" + c + " y" + y + " x" + x);
                        }
                    }
                }
            }
        }
    }

    // ---------- buffer reuse ----------

    private static float[] values(ImageBatch b) {
        float[] out = new float[b.data().capacity()];
        b.data().duplicate().clear().get(out);
        return out;
    }

    @Test
    void aReusedBufferGivesExactlyWhatAFreshOneGives() {
        // A large batch leaves non-zero values all over its buffer; the smaller batches that reuse it must still
        // come out bit for bit as from a fresh preprocessor, zero padding included.
        List<BufferedImage> large = List.of(randomRgb(90, 60, 11), randomRgb(40, 95, 12));
        List<List<BufferedImage>> later = List.of(List.of(randomRgb(20, 50, 13)),
                List.of(randomRgb(70, 33, 14), randomRgb(32, 32, 15)), List.of(randomRgb(64, 64, 16)));
        for (PreprocessConfig.ResizePolicy policy : PreprocessConfig.ResizePolicy.values()) {
            PreprocessConfig cfg = new PreprocessConfig(PreprocessConfig.ChannelOrder.RGB, 1f, MEAN, STD, policy, 96, 64, 32);
            try (Preprocessor reused = new Preprocessor(cfg)) {
                ImageBatch first = reused.preprocessImages(large);
                reused.release(first);
                for (List<BufferedImage> images : later) {
                    ImageBatch got = reused.preprocessImages(images);
                    float[] expected;
                    try (Preprocessor fresh = new Preprocessor(cfg)) {
                        expected = values(fresh.preprocessImages(images));
                    }
                    assertArrayEquals(expected, values(got), policy + " batch of " + images.size());
                    assertPaddingZeroAndContentVaried(got);
                    reused.release(got);
                }
                assertEquals(1, reused.inputBuffers().allocations(),
                        policy + ": every later batch fits in the first batch's buffer");
                assertEquals(0, reused.inputBuffers().outstanding());
            }
        }
    }

    @Test
    void unreleasedBatchesKeepTheirOwnBuffers() {
        PreprocessConfig cfg = new PreprocessConfig(PreprocessConfig.ChannelOrder.BGR, 1f, MEAN, STD,
                PreprocessConfig.ResizePolicy.MMDET, 96, 64, 32);
        try (Preprocessor pre = new Preprocessor(cfg)) {
            ImageBatch a = pre.preprocessImages(List.of(randomRgb(50, 50, 21)));
            float[] before = values(a);
            ImageBatch b = pre.preprocessImages(List.of(randomRgb(50, 50, 22)));
            assertArrayEquals(before, values(a), "a batch in use is never handed out again");
            assertFalse(java.util.Arrays.equals(values(a), values(b)));
            assertEquals(2, pre.inputBuffers().allocations());
            pre.release(b);
            pre.release(b);
            ImageBatch c = pre.preprocessImages(List.of(randomRgb(50, 50, 23)));
            assertArrayEquals(before, values(a));
            assertEquals(2, pre.inputBuffers().allocations(), "c reuses b's buffer, released twice but kept once");
            pre.release(c);
            pre.release(a);
            assertEquals(2, pre.inputBuffers().idleBlocks());
        }
    }

    // ---------- batches ----------

    @Test
    void batchOfDifferentSizesEqualsImagesProcessedAlone() {
        List<BufferedImage> images = List.of(randomRgb(20, 50, 2), randomRgb(70, 33, 3), randomRgb(32, 32, 4));
        PreprocessConfig cfg = new PreprocessConfig(PreprocessConfig.ChannelOrder.BGR, 1f, MEAN, STD,
                PreprocessConfig.ResizePolicy.MMDET, 90, 60, 32);
        try (Preprocessor pre = new Preprocessor(cfg)) {
            ImageBatch batch = pre.preprocessImages(images);
            assertEquals(3, batch.size());
            for (int i = 0; i < images.size(); i++) {
                ImageBatch alone = pre.preprocessImages(List.of(images.get(i)));
                ImageMeta m = alone.metas().get(0);
                assertEquals(m, batch.metas().get(i));
                assertTrue(batch.height() >= alone.height() && batch.width() >= alone.width());
                for (int c = 0; c < 3; c++) {
                    for (int y = 0; y < alone.height(); y++) {
                        for (int x = 0; x < alone.width(); x++) {
                            assertEquals(value(alone, 0, c, y, x), value(batch, i, c, y, x), 0f);
                        }
                    }
                }
            }
            // Every size a multiple of 32 covering the largest resized image.
            int maxH = batch.metas().stream().mapToInt(ImageMeta::resizedHeight).max().orElseThrow();
            int maxW = batch.metas().stream().mapToInt(ImageMeta::resizedWidth).max().orElseThrow();
            assertEquals((maxH + 31) / 32 * 32, batch.height());
            assertEquals((maxW + 31) / 32 * 32, batch.width());
            assertPaddingZeroAndContentVaried(batch);
        }
    }

    @Test
    void bufferedImageTypesMatchTheirPngEncoding() {
        BufferedImage rgb = randomRgb(9, 11, 5);
        List<BufferedImage> variants = new ArrayList<>();
        for (int type : new int[] {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB,
                BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_INT_BGR}) {
            BufferedImage v = new BufferedImage(11, 9, type);
            for (int y = 0; y < 9; y++) {
                for (int x = 0; x < 11; x++) {
                    v.setRGB(x, y, 0xFF000000 | rgb.getRGB(x, y));
                }
            }
            variants.add(v);
        }
        try (Preprocessor pre = new Preprocessor(config(PreprocessConfig.ChannelOrder.RGB, 1f,
                PreprocessConfig.ResizePolicy.NONE))) {
            FloatBuffer expected = pre.preprocessEncoded(List.of(png(rgb))).data();
            for (BufferedImage v : variants) {
                FloatBuffer got = pre.preprocessImages(List.of(v)).data();
                assertEquals(expected, got, "BufferedImage type " + v.getType());
            }
        }
    }

    // ---------- grayscale and alpha ----------

    @Test
    void grayscalePngBecomesThreeEqualChannels() {
        BufferedImage gray = new BufferedImage(6, 4, BufferedImage.TYPE_BYTE_GRAY);
        int[] levels = new int[24];
        for (int i = 0; i < 24; i++) {
            levels[i] = i * 11;
            gray.getRaster().setSample(i % 6, i / 6, 0, levels[i]);
        }
        try (Preprocessor pre = new Preprocessor(config(PreprocessConfig.ChannelOrder.BGR, 1f,
                PreprocessConfig.ResizePolicy.NONE))) {
            for (ImageBatch b : List.of(pre.preprocessEncoded(List.of(png(gray))), pre.preprocessImages(List.of(gray)))) {
                for (int i = 0; i < 24; i++) {
                    for (int c = 0; c < 3; c++) {
                        assertEquals((levels[i] - MEAN[c]) / STD[c], value(b, 0, c, i / 6, i % 6), 0f, "pixel " + i);
                    }
                }
            }
        }
    }

    @Test
    void sixteenBitGrayKeepsTheHighByte() {
        BufferedImage gray16 = new BufferedImage(5, 2, BufferedImage.TYPE_USHORT_GRAY);
        for (int i = 0; i < 10; i++) {
            gray16.getRaster().setSample(i % 5, i / 5, 0, i * 6553 + 0x7F);
        }
        try (Preprocessor pre = new Preprocessor(config(PreprocessConfig.ChannelOrder.RGB, 1f,
                PreprocessConfig.ResizePolicy.NONE))) {
            for (ImageBatch b : List.of(pre.preprocessEncoded(List.of(png(gray16))), pre.preprocessImages(List.of(gray16)))) {
                for (int i = 0; i < 10; i++) {
                    int high = (i * 6553 + 0x7F) >> 8;
                    for (int c = 0; c < 3; c++) {
                        // libpng may round instead of truncating when it reduces 16 to 8 bits: allow one level.
                        assertEquals((high - MEAN[c]) / STD[c], value(b, 0, c, i / 5, i % 5), 1.01f / STD[c], "pixel " + i);
                    }
                }
            }
        }
    }

    @Test
    void concurrentCallsGiveTheSameBatches() throws Exception {
        List<byte[]> encoded = List.of(png(randomRgb(60, 80, 21)), png(randomRgb(45, 45, 22)));
        try (Preprocessor pre = new Preprocessor(PreprocessConfig.torchvision())) {
            FloatBuffer expected = pre.preprocessEncoded(encoded).data();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<FloatBuffer>> futures = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    futures.add(pool.submit(() -> pre.preprocessEncoded(encoded).data()));
                }
                for (java.util.concurrent.Future<FloatBuffer> f : futures) {
                    assertEquals(expected, f.get());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void rgbaPngDropsAlphaKeepingColour() {
        BufferedImage rgba = new BufferedImage(4, 3, BufferedImage.TYPE_INT_ARGB);
        for (int i = 0; i < 12; i++) {
            int alpha = i * 23; // includes fully transparent pixel 0
            rgba.setRGB(i % 4, i / 4, (alpha << 24) | (i * 20) << 16 | (255 - i * 20) << 8 | (i * 7));
        }
        try (Preprocessor pre = new Preprocessor(config(PreprocessConfig.ChannelOrder.RGB, 1f,
                PreprocessConfig.ResizePolicy.NONE))) {
            ImageBatch b = pre.preprocessEncoded(List.of(png(rgba)));
            for (int i = 0; i < 12; i++) {
                int[] rgb = {i * 20, 255 - i * 20, i * 7};
                for (int c = 0; c < 3; c++) {
                    assertEquals((rgb[c] - MEAN[c]) / STD[c], value(b, 0, c, i / 4, i % 4), 0f, "pixel " + i + " c" + c);
                }
            }
        }
    }

    // ---------- errors ----------

    @Test
    void corruptEmptyAndMissingInputsNameTheImage() throws IOException {
        try (Preprocessor pre = new Preprocessor(PreprocessConfig.mmdetCaffe())) {
            byte[] good = png(randomRgb(4, 4, 9));
            byte[] garbage = "definitely not an image".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            ImageDecodeException e = assertThrows(ImageDecodeException.class,
                    () -> pre.preprocessEncoded(List.of(good, good, garbage)));
            assertTrue(e.getMessage().startsWith("encoded image #2 (" + garbage.length + " bytes) is not a decodable image"),
                    e.getMessage());

            e = assertThrows(ImageDecodeException.class, () -> pre.preprocessEncoded(List.of(new byte[0])));
            assertTrue(e.getMessage().contains("encoded image #0") && e.getMessage().contains("empty"), e.getMessage());

            byte[] truncatedHeader = java.util.Arrays.copyOf(good, 20);
            e = assertThrows(ImageDecodeException.class, () -> pre.preprocessEncoded(List.of(truncatedHeader)));
            assertTrue(e.getMessage().contains("encoded image #0 (20 bytes)"), e.getMessage());

            Path missing = tmp.resolve("no-such-image.jpg");
            e = assertThrows(ImageDecodeException.class, () -> pre.preprocessFiles(List.of(missing)));
            assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("does not exist"),
                    e.getMessage());

            Path empty = Files.createFile(tmp.resolve("empty.png"));
            e = assertThrows(ImageDecodeException.class, () -> pre.preprocessFiles(List.of(empty)));
            assertTrue(e.getMessage().contains(empty.toString()) && e.getMessage().contains("empty"), e.getMessage());

            Path corrupt = Files.write(tmp.resolve("corrupt.jpg"), garbage);
            e = assertThrows(ImageDecodeException.class, () -> pre.preprocessFiles(List.of(corrupt)));
            assertTrue(e.getMessage().contains(corrupt.toString()), e.getMessage());

            Path directory = Files.createDirectory(tmp.resolve("a-directory.jpg"));
            e = assertThrows(ImageDecodeException.class, () -> pre.preprocessFiles(List.of(directory)));
            assertTrue(e.getMessage().contains(directory.toString()), e.getMessage());

            List<BufferedImage> withNull = new ArrayList<>();
            withNull.add(null);
            e = assertThrows(ImageDecodeException.class, () -> pre.preprocessImages(withNull));
            assertTrue(e.getMessage().contains("image #0"), e.getMessage());

            assertThrows(IllegalArgumentException.class, () -> pre.preprocessFiles(List.of()));
            // Still usable after failures.
            assertEquals(1, pre.preprocessEncoded(List.of(good)).size());
        }
    }

    @Test
    void closedPreprocessorRejectsWorkAndCloseIsIdempotent() {
        Preprocessor pre = new Preprocessor(PreprocessConfig.torchvision());
        pre.close();
        pre.close();
        ResourceClosedException e = assertThrows(ResourceClosedException.class,
                () -> pre.preprocessEncoded(List.of(png(randomRgb(2, 2, 1)))));
        assertTrue(e.getMessage().contains("Preprocessor"));
        assertFalse(e.getMessage().isEmpty());
    }

    @Test
    void noNativeObjectOutlivesACall() throws IOException {
        Path file = Files.write(tmp.resolve("leak.png"), png(randomRgb(40, 30, 8)));
        byte[] encoded = Files.readAllBytes(file);
        BufferedImage image = randomRgb(25, 35, 9);
        try (Preprocessor mm = new Preprocessor(PreprocessConfig.mmdetCaffe());
             Preprocessor tv = new Preprocessor(PreprocessConfig.torchvision())) {
            mm.preprocessFiles(List.of(file)); // warm-up: class loading may allocate once
            long before = org.bytedeco.javacpp.Pointer.totalCount();
            for (int i = 0; i < 20; i++) {
                for (Preprocessor p : List.of(mm, tv)) {
                    p.preprocessFiles(List.of(file, file));
                    p.preprocessEncoded(List.of(encoded));
                    p.preprocessImages(List.of(image));
                    assertThrows(ImageDecodeException.class, () -> p.preprocessEncoded(List.of(encoded, new byte[] {1, 2, 3})));
                }
            }
            long after = org.bytedeco.javacpp.Pointer.totalCount();
            // Every Mat, Size and buffer pointer is closed by the call that made it (GC may only lower the count).
            assertTrue(after <= before, "native objects left behind: " + (after - before));
        }
    }

    @Test
    void directoryOfImagesWithUnicodeNameDecodes() throws IOException {
        Path file = tmp.resolve("bild-\u00e4\u00f6\u00fc.png");
        Files.write(file, png(randomRgb(10, 12, 3)));
        try (Preprocessor pre = new Preprocessor(PreprocessConfig.mmdetCaffe())) {
            ImageBatch b = pre.preprocessFiles(List.of(file));
            assertArrayEquals(new int[] {10, 12}, new int[] {b.metas().get(0).originalHeight(), b.metas().get(0).originalWidth()});
        }
    }
}
