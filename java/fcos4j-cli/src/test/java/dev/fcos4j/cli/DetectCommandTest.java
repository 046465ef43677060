package dev.fcos4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.Detection;
import dev.fcos4j.Detector;
import dev.fcos4j.io.CocoCategories;
import dev.fcos4j.model.TinyFcosModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static dev.fcos4j.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code fcos4j detect} on B's generated tiny contract model (80 COCO classes, mmdet metadata). */
class DetectCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    static Path model;
    static Path imageDir;

    @BeforeAll
    static void makeModelAndImages() throws IOException {
        model = shared.resolve("tiny-fcos.onnx");
        TinyFcosModel.generate(model, 1, 80);
        imageDir = Files.createDirectory(shared.resolve("images"));
        Random r = new Random(11);
        int[][] sizes = {{48, 64}, {80, 40}, {33, 97}};
        for (int i = 0; i < sizes.length; i++) {
            BufferedImage img = new BufferedImage(sizes[i][1], sizes[i][0], BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    img.setRGB(x, y, ((x * 4) << 16) | ((y * 3) << 8) | r.nextInt(256));
                }
            }
            ImageIO.write(img, "png", imageDir.resolve(String.format("%012d.png", 100 + i)).toFile());
        }
        Files.writeString(imageDir.resolve("notes.txt"), "not an image, ignored when listing the directory");
    }

    private static List<Path> images() throws IOException {
        try (Stream<Path> s = Files.list(imageDir)) {
            return s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
    }

    @Test
    void writesDetectionsCocoResultsAndAnnotatedImages() throws IOException {
        Path out = shared.resolve("out-dir");
        CliTestSupport.Result r = run("detect", "--model", model.toString(), "--out", out.toString(), "--batch", "2",
                "--threads", "1", imageDir.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("3 images"), r.toString());
        assertTrue(r.out().matches("(?s).*per image: preprocess \\d+\\.\\d ms, network \\d+\\.\\d ms, post-process \\d+\\.\\d\\d ms.*"),
                r.toString());
        assertTrue(r.out().contains("coco_results.json"), r.toString());

        List<Path> images = images();
        JsonNode doc = JSON.readTree(out.resolve("detections.json").toFile());
        assertEquals("mmdet", doc.get("info").get("convention").asText());
        JsonNode perImage = doc.get("images");
        assertEquals(3, perImage.size());
        int total = 0;
        List<List<Detection>> expected;
        try (Detector detector = Detector.builder().modelPath(model).intraOpThreads(1).build()) {
            expected = new ArrayList<>();
            for (Path p : images) {
                expected.add(detector.detect(p));
            }
        }
        for (int i = 0; i < 3; i++) {
            JsonNode image = perImage.get(i);
            BufferedImage original = ImageIO.read(images.get(i).toFile());
            assertEquals(images.get(i).toString(), image.get("source").asText());
            assertEquals(original.getWidth(), image.get("width").asInt());
            assertEquals(original.getHeight(), image.get("height").asInt());
            JsonNode dets = image.get("detections");
            // The CLI reports what the library API detects, image by image (same-size batches are exact;
            // mixed sizes are padded together, so compare counts within the model's bound only).
            assertTrue(dets.size() <= 100);
            double previous = Double.MAX_VALUE;
            for (JsonNode d : dets) {
                double score = d.get("score").asDouble();
                assertTrue(score <= previous, "sorted by score");
                previous = score;
                assertTrue(d.get("box").get(0).asDouble() >= 0 && d.get("box").get(2).asDouble() <= original.getWidth());
                assertTrue(d.get("box").get(1).asDouble() >= 0 && d.get("box").get(3).asDouble() <= original.getHeight());
                assertEquals(CocoCategories.NAMES.get(d.get("class").asInt()), d.get("label").asText());
            }
            total += dets.size();
            // Annotated PNG with the original size.
            BufferedImage annotated = ImageIO.read(out.resolve(images.get(i).getFileName()).toFile());
            assertEquals(original.getWidth(), annotated.getWidth());
            assertEquals(original.getHeight(), annotated.getHeight());
        }
        assertTrue(expected.stream().mapToInt(List::size).sum() > 0, "the tiny model detects something");

        JsonNode coco = JSON.readTree(out.resolve("coco_results.json").toFile());
        assertEquals(total, coco.size());
        for (JsonNode rec : coco) {
            long id = rec.get("image_id").asLong();
            assertTrue(id >= 100 && id <= 102, "image id from the file name: " + rec);
            assertTrue(rec.get("bbox").get(2).asDouble() >= 0 && rec.get("bbox").get(3).asDouble() >= 0);
        }
    }

    @Test
    void singleImagesMatchTheLibraryExactlyOnStdout() throws IOException {
        Path image = images().get(0);
        CliTestSupport.Result r = run("detect", "--model", model.toString(), "--threads", "1", image.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("1 image"), r.toString());
        JsonNode dets = JSON.readTree(r.out()).get("images").get(0).get("detections");
        List<Detection> expected;
        try (Detector detector = Detector.builder().modelPath(model).intraOpThreads(1).build()) {
            expected = detector.detect(image);
        }
        assertEquals(expected.size(), dets.size());
        for (int i = 0; i < expected.size(); i++) {
            Detection e = expected.get(i);
            JsonNode d = dets.get(i);
            assertEquals(e.x1(), (float) d.get("box").get(0).asDouble());
            assertEquals(e.y2(), (float) d.get("box").get(3).asDouble());
            assertEquals(e.score(), (float) d.get("score").asDouble());
            assertEquals(e.classId(), d.get("class").asInt());
        }
    }

    @Test
    void overridesReachThePostProcessing() throws IOException {
        CliTestSupport.Result r = run("detect", "--model", model.toString(), "--threads", "1", "--max-detections", "2",
                "--convention", "fcos", "--score-threshold", "0.01", images().get(1).toString());
        assertEquals(0, r.code(), r.toString());
        JsonNode doc = JSON.readTree(r.out());
        assertEquals("fcos", doc.get("info").get("convention").asText());
        assertEquals("0.01", doc.get("info").get("score_threshold").asText());
        assertTrue(doc.get("images").get(0).get("detections").size() <= 2);
    }

    @Test
    void progressIsPlainOffTerminalAndOnlyWhenAsked() throws IOException {
        String img = images().get(0).toString();
        CliTestSupport.Result r = run("detect", "--model", model.toString(), "--threads", "1", "--progress", "always",
                img, img);
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("progress: 2/2 images (100%"), r.toString());
        assertFalse(r.err().contains("\r"), "no carriage returns when not on a terminal");
        r = run("detect", "--model", model.toString(), "--threads", "1", img, img);
        assertFalse(r.err().contains("progress:"), "two images: no progress in auto mode\n" + r);
    }

    @Test
    void badImagesAndModelsFailWithTheirNames() throws IOException {
        Path corrupt = Files.writeString(shared.resolve("corrupt.jpg"), "this is no JPEG");
        CliTestSupport.Result r = run("detect", "--model", model.toString(), "--threads", "1", corrupt.toString());
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains(corrupt.toString()), r.toString());
        assertFalse(r.err().contains("\tat "), r.toString());

        Path missing = shared.resolve("missing.jpg");
        r = run("detect", "--model", model.toString(), missing.toString());
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains(missing.toString()) && r.err().contains("does not exist"), r.toString());

        Path emptyDir = Files.createDirectories(shared.resolve("no-images"));
        r = run("detect", "--model", model.toString(), emptyDir.toString());
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains("contains no images"), r.toString());

        Path notOnnx = Files.writeString(shared.resolve("not-a-model.onnx"), "nope");
        r = run("detect", "--model", notOnnx.toString(), images().get(0).toString());
        assertTrue(r.code() == Main.EXIT_RUNTIME || r.code() == Main.EXIT_USAGE, r.toString());
        assertTrue(r.err().contains(notOnnx.toString()), r.toString());
        assertFalse(r.err().contains("\tat "), r.toString());

        Path noModel = shared.resolve("no-such-model.onnx");
        r = run("detect", "--model", noModel.toString(), images().get(0).toString());
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains(noModel.toString()) && r.err().contains("does not exist"), r.toString());

        r = run("detect", "--model", model.toString(), "--batch", "0", images().get(0).toString());
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        r = run("detect", "--model", model.toString(), "--postprocess-threads", "0", images().get(0).toString());
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        assertTrue(r.err().contains("--postprocess-threads must be at least 1"), r.toString());
        r = run("detect", "--model", model.toString(), "--iou-threshold", "2", images().get(0).toString());
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        assertTrue(r.err().contains("IoU threshold"), r.toString());
    }

    @Test
    void postprocessThreadsGiveTheSameJson() throws IOException {
        List<String> files = images().stream().map(Path::toString).toList();
        List<String> base = new java.util.ArrayList<>(List.of("detect", "--model", model.toString(), "--threads", "1",
                "--batch", "3"));
        CliTestSupport.Result one = run(concat(base, files));
        List<String> withThreads = new java.util.ArrayList<>(base);
        withThreads.addAll(List.of("--postprocess-threads", "2"));
        CliTestSupport.Result two = run(concat(withThreads, files));
        assertEquals(0, one.code(), one.toString());
        assertEquals(0, two.code(), two.toString());
        assertEquals(one.out(), two.out(), "stdout holds the detections JSON");
    }

    private static String[] concat(List<String> a, List<String> b) {
        List<String> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all.toArray(new String[0]);
    }

    @Test
    void keepGoingSkipsUnreadableImagesAndStillFails() throws IOException {
        Path corrupt = Files.writeString(shared.resolve("broken-000000000999.png"), "no PNG here");
        Path out = shared.resolve("keep-going-out");
        List<Path> good = images();
        CliTestSupport.Result r = run("detect", "--model", model.toString(), "--threads", "1", "--batch", "2",
                "--keep-going", "--out", out.toString(), good.get(0).toString(), corrupt.toString(), good.get(1).toString());
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains("skipped: ") && r.err().contains(corrupt.toString()), r.toString());
        assertTrue(r.err().contains("1 image was skipped"), r.toString());
        JsonNode perImage = JSON.readTree(out.resolve("detections.json").toFile()).get("images");
        assertEquals(2, perImage.size());
        assertEquals(good.get(0).toString(), perImage.get(0).get("source").asText());
        assertEquals(good.get(1).toString(), perImage.get(1).get("source").asText());
        for (JsonNode rec : JSON.readTree(out.resolve("coco_results.json").toFile())) {
            assertTrue(rec.get("image_id").asLong() != 999, "no record for the skipped image");
        }
        // Without --keep-going the same run stops at the bad image.
        r = run("detect", "--model", model.toString(), "--threads", "1", good.get(0).toString(), corrupt.toString());
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertFalse(r.err().contains("skipped"), r.toString());
    }

    @Test
    void realCocoJpegsGetTheirCocoImageIds() throws IOException {
        Path dir = Paths.get(System.getProperty("fcos4j.shared", "../shared"), "data", "coco-images", "images");
        assumeTrue(Files.isDirectory(dir), "shared COCO images absent, skipping");
        List<Path> two;
        try (Stream<Path> s = Files.list(dir)) {
            two = s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(2).toList();
        }
        Path out = shared.resolve("coco-out");
        CliTestSupport.Result r = run("detect", "--model", model.toString(), "--threads", "1", "--no-annotate",
                "--out", out.toString(), two.get(0).toString(), two.get(1).toString());
        assertEquals(0, r.code(), r.toString());
        JsonNode coco = JSON.readTree(out.resolve("coco_results.json").toFile());
        long id0 = Long.parseLong(two.get(0).getFileName().toString().replace(".jpg", ""));
        long id1 = Long.parseLong(two.get(1).getFileName().toString().replace(".jpg", ""));
        for (JsonNode rec : coco) {
            long id = rec.get("image_id").asLong();
            assertTrue(id == id0 || id == id1, rec.toString());
        }
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(0, s.filter(p -> p.toString().endsWith(".png")).count(), "--no-annotate");
        }
    }
}
