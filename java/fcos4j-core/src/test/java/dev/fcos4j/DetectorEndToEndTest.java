package dev.fcos4j;

import dev.fcos4j.model.TinyFcosModel;
import dev.fcos4j.model.TinyFcosModel.Defect;
import dev.fcos4j.model.TinyFcosModel.Spec;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.onnx.OnnxRuntimeNetwork;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import dev.fcos4j.preprocess.ImageMeta;
import dev.fcos4j.preprocess.Images;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole CPU pipeline with the tiny generated model and the real reference post-processing: image →
 * Preprocessor → ONNX Runtime → ReferencePostProcessor → detections.
 */
class DetectorEndToEndTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void generate() {
        model = dir.resolve("tiny80.onnx");
        TinyFcosModel.generate(model, 1, 80);
    }

    @AfterEach
    void noLeaks() {
        assertEquals(0, OnnxRuntimeNetwork.openOutputs(), "network outputs left open");
        assertEquals(0, OnnxRuntimeNetwork.openTensors(), "ONNX Runtime tensors left open");
    }

    private static Detector open() {
        return Detector.builder().modelPath(model).intraOpThreads(1).build();
    }

    /** What must hold for any mmdet-convention result of an image of the given size. */
    static void assertValid(List<Detection> dets, int width, int height, Detector d, String what) {
        assertTrue(dets.size() <= 100, what + ": " + dets.size() + " detections");
        float slack = 1e-3f * Math.max(width, height);
        for (int i = 0; i < dets.size(); i++) {
            Detection det = dets.get(i);
            String at = what + " detection " + i + " " + det;
            if (i > 0) {
                assertTrue(dets.get(i - 1).score() >= det.score(), at + ": not sorted by score");
            }
            assertTrue(det.score() > 0f && det.score() <= 1f, at);
            assertTrue(det.x1() >= 0f && det.y1() >= 0f, at);
            assertTrue(det.x2() <= width + slack && det.y2() <= height + slack, at);
            assertTrue(det.x2() > det.x1() && det.y2() > det.y1(), at + ": empty box");
            assertTrue(det.classId() >= 0 && det.classId() < 80, at);
            assertEquals(d.metadata().label(det.classId()), det.label(), at);
        }
    }

    @Test
    void syntheticImagesGiveValidDetections() {
        int total = 0;
        try (Detector d = open()) {
            int[][] sizes = {{320, 240}, {200, 300}, {97, 61}};
            for (int i = 0; i < sizes.length; i++) {
                BufferedImage img = TestImages.synthetic(sizes[i][0], sizes[i][1], 100 + i);
                List<Detection> dets = d.detect(img);
                assertValid(dets, sizes[i][0], sizes[i][1], d, "synthetic " + sizes[i][0] + "x" + sizes[i][1]);
                total += dets.size();
            }
        }
        // The tiny model's cls bias is raised so that ordinary images give candidates above 0.05.
        assertTrue(total > 0, "no detections at all");
    }

    @Test
    void realPhotosGiveValidDetections() throws Exception {
        Path photos = Path.of(System.getProperty("fcos4j.shared", "../shared"), "data", "photos");
        Assumptions.assumeTrue(Files.isDirectory(photos), "shared data absent: " + photos);
        List<Path> files;
        try (Stream<Path> s = Files.list(photos)) {
            files = s.filter(p -> p.toString().endsWith(".png") || p.toString().endsWith(".jpg")).sorted().toList();
        }
        Assumptions.assumeFalse(files.isEmpty(), "no photos in " + photos);
        try (Detector d = open()) {
            List<List<Detection>> all = d.detectBatch(files);
            assertEquals(files.size(), all.size());
            for (int i = 0; i < files.size(); i++) {
                BufferedImage img = ImageIO.read(files.get(i).toFile());
                assertValid(all.get(i), img.getWidth(), img.getHeight(), d, files.get(i).toString());
            }
        }
    }

    @Test
    void batchOfSameSizeImagesEqualsSingleCalls() {
        List<BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            images.add(TestImages.synthetic(160, 120, 200 + i));
        }
        try (Detector d = open()) {
            List<List<Detection>> batch = d.detectBatchImages(images);
            for (int i = 0; i < images.size(); i++) {
                assertSameDetections(d.detect(images.get(i)), batch.get(i), "image " + i);
            }
        }
    }

    @Test
    void postProcessingThreadsChangeNothingButWhoWorks() {
        List<BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            images.add(TestImages.synthetic(160, 120, 300 + i));
        }
        try (Detector one = open();
             Detector three = Detector.builder().modelPath(model).intraOpThreads(1).postprocessThreads(3).build()) {
            List<List<Detection>> expected = one.detectBatchImages(images);
            List<List<Detection>> got = three.detectBatchImages(images);
            for (int i = 0; i < images.size(); i++) {
                assertSameDetections(expected.get(i), got.get(i), "image " + i);
            }
        }
        assertThrows(ConfigurationException.class, () -> Detector.builder().postprocessThreads(0));
    }

    @Test
    void openCvImagesGiveWhatTheirFilesGive() {
        BufferedImage img = TestImages.synthetic(180, 120, 7);
        Path file = TestImages.pngFile(dir, "mat.png", img);
        try (Detector d = open(); Mat bgr = Images.readBgr(file); Mat gray = new Mat()) {
            List<Detection> fromFile = d.detect(file);
            assertFalse(fromFile.isEmpty());
            assertSameDetections(fromFile, d.detect(bgr), "BGR Mat");
            assertEquals(3, bgr.channels(), "the caller's Mat is left as it was");
            assertEquals(List.of(fromFile), d.detectBatchMats(List.of(bgr)));
            opencv_imgproc.cvtColor(bgr, gray, opencv_imgproc.COLOR_BGR2GRAY);
            assertValid(d.detect(gray), 180, 120, d, "gray Mat");
            try (Mat empty = new Mat()) {
                ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> d.detect(empty));
                assertTrue(e.getMessage().contains("Mat #0"), e.getMessage());
            }
        }
    }

    @Test
    void asyncEqualsSync() {
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            images.add(TestImages.png(TestImages.synthetic(128 + 32 * i, 96, 300 + i)));
        }
        try (Detector d = open()) {
            List<CompletableFuture<List<Detection>>> futures = new ArrayList<>();
            for (byte[] b : images) {
                futures.add(d.detectAsync(b));
            }
            for (int i = 0; i < images.size(); i++) {
                assertEquals(d.detect(images.get(i)), futures.get(i).join(), "image " + i);
            }
        }
    }

    /** Batched and single runs may differ in the last float bit of a conv; results must agree to that. */
    private static void assertSameDetections(List<Detection> expected, List<Detection> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": count");
        for (int i = 0; i < expected.size(); i++) {
            Detection e = expected.get(i);
            Detection a = actual.get(i);
            assertEquals(e.classId(), a.classId(), what + " #" + i);
            assertEquals(e.score(), a.score(), 1e-5f, what + " #" + i);
            assertEquals(e.x1(), a.x1(), 1e-2f, what + " #" + i);
            assertEquals(e.y1(), a.y1(), 1e-2f, what + " #" + i);
            assertEquals(e.x2(), a.x2(), 1e-2f, what + " #" + i);
            assertEquals(e.y2(), a.y2(), 1e-2f, what + " #" + i);
        }
    }

    @Test
    void nanInClsLogitsIsAnErrorNamingTheTensor() {
        Path nan = dir.resolve("nan-cls.onnx");
        TinyFcosModel.generate(nan, Spec.of(1, 80).withDefect(Defect.NAN_CLS));
        try (Detector d = Detector.builder().modelPath(nan).intraOpThreads(1).build()) {
            InvalidHeadOutputException e = assertThrows(InvalidHeadOutputException.class,
                    () -> d.detect(TestImages.synthetic(128, 96, 1)));
            assertTrue(e.getMessage().contains("cls_2"), e.getMessage());
        }
    }

    @Test
    void nanInBoxDistancesIsAnErrorNamingTheTensor() {
        Path nan = dir.resolve("nan-reg.onnx");
        TinyFcosModel.generate(nan, Spec.of(1, 80).withDefect(Defect.NAN_REG));
        try (Detector d = Detector.builder().modelPath(nan).intraOpThreads(1).build()) {
            // 320 x 240 gives level 1 (stride 16) 3000+ candidate slots; some pass 0.05, so reg_1 is read.
            InvalidHeadOutputException e = assertThrows(InvalidHeadOutputException.class,
                    () -> d.detect(TestImages.synthetic(320, 240, 1)));
            assertTrue(e.getMessage().contains("reg_1"), e.getMessage());
        }
    }
}
