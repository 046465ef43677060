package dev.fcos4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.model.TinyFcosModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

import static dev.fcos4j.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code fcos4j eval}: the reference summary on the shared oracle, hand-built cases, --limit, bad input. */
class EvalCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static Path shared() {
        return Paths.get(System.getProperty("fcos4j.shared", "../../../shared")).toAbsolutePath().normalize();
    }

    /** Two images, one ground-truth box each (category 1 on image 1, category 2 on image 2). */
    private Path twoImageGroundTruth() throws IOException {
        Path gt = dir.resolve("gt.json");
        Files.writeString(gt, """
                {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100},
                            {"id": 2, "file_name": "b.jpg", "width": 100, "height": 100}],
                 "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "area": 1600, "iscrowd": 0},
                                 {"id": 2, "image_id": 2, "category_id": 2, "bbox": [20, 20, 50, 30], "area": 1500, "iscrowd": 0}]}
                """);
        return gt;
    }

    @Test
    void reproducesTheReferenceSummaryOnTheSharedOracle() throws IOException {
        Path oracle = shared().resolve("data/coco-eval");
        assumeTrue(Files.isDirectory(oracle), "../shared/data/coco-eval is absent");
        CliTestSupport.Result r = run("eval", "--annotations", oracle.resolve("instances_val2014_100.json").toString(),
                "--results", oracle.resolve("instances_val2014_fakebbox100_results.json").toString(),
                "--out", dir.toString());
        assertEquals(0, r.code(), r::toString);
        JsonNode expected = JSON.readTree(oracle.resolve("expected-bbox-stats.json").toFile()).get("stats");
        // The first summary line carries AP@[.5:.95], all areas, 100 detections.
        String apLine = r.out().lines().filter(l -> l.contains("Average Precision") && l.contains("0.50:0.95")
                && l.contains("area=   all")).findFirst().orElseThrow();
        assertTrue(apLine.endsWith(String.format(Locale.ROOT, "%.3f", expected.get(0).asDouble())), apLine);
        assertEquals(12, r.out().lines().filter(l -> l.startsWith(" Average")).count(), r::toString);
        JsonNode written = JSON.readTree(dir.resolve("eval.json").toFile());
        assertTrue(written.toString().contains(Double.toString(expected.get(1).asDouble())), written::toString);
    }

    @Test
    void perfectDetectionsScoreOne() throws IOException {
        Path gt = twoImageGroundTruth();
        Path res = dir.resolve("res.json");
        Files.writeString(res, """
                [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "score": 0.9},
                 {"image_id": 2, "category_id": 2, "bbox": [20, 20, 50, 30], "score": 0.8}]
                """);
        CliTestSupport.Result r = run("eval", "-a", gt.toString(), "-r", res.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().lines().findFirst().orElseThrow().endsWith("= 1.000"), r::toString);
    }

    @Test
    void limitScoresOnlyTheVisitedImages() throws IOException {
        Path gt = twoImageGroundTruth();
        Path res = dir.resolve("res.json");
        // Only image 1 is detected: over both images the dog is missed, over the first image nothing is.
        Files.writeString(res, """
                [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "score": 0.9}]
                """);
        CliTestSupport.Result all = run("eval", "-a", gt.toString(), "-r", res.toString());
        CliTestSupport.Result first = run("eval", "-a", gt.toString(), "-r", res.toString(), "--limit", "1");
        assertEquals(0, all.code(), all::toString);
        assertEquals(0, first.code(), first::toString);
        // Over both images: cat AP 1, dog AP 0 -> mean 0.5.
        assertTrue(all.out().lines().findFirst().orElseThrow().endsWith("= 0.500"), all::toString);
        // Over image 1: the dog category has no ground truth there (-1, left out of the mean) -> 1.
        assertTrue(first.out().lines().findFirst().orElseThrow().endsWith("= 1.000"), first::toString);
    }

    @Test
    void usageErrorsExitTwo() throws IOException {
        Path gt = twoImageGroundTruth();
        assertEquals(2, run("eval", "-a", gt.toString()).code());
        assertEquals(2, run("eval", "-a", gt.toString(), "-r", "x.json", "-m", "m.onnx", "-i", ".").code());
        assertEquals(2, run("eval", "-a", gt.toString(), "-m", "m.onnx").code());
        assertEquals(2, run("eval", "-a", gt.toString(), "-r", "x.json", "--limit", "0").code());
        CliTestSupport.Result trt = run("eval", "-a", gt.toString(), "-m", "m.onnx", "-i", ".", "--backend", "trt-int8");
        assertEquals(2, trt.code(), trt::toString);
        assertTrue(trt.err().contains("--backend trt-int8"), trt::toString);
        // plain trt is a valid name (trt-fp32): the run gets as far as the missing model, a runtime error
        CliTestSupport.Result plain = run("eval", "-a", gt.toString(), "-m", "m.onnx", "-i", ".", "--backend", "trt");
        assertEquals(1, plain.code(), plain::toString);
        assertTrue(plain.err().contains("m.onnx does not exist"), plain::toString);
    }

    @Test
    void malformedResultsNameTheFile() throws IOException {
        Path gt = twoImageGroundTruth();
        Path res = dir.resolve("broken.json");
        Files.writeString(res, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [10, 10, 40]");
        CliTestSupport.Result r = run("eval", "-a", gt.toString(), "-r", res.toString());
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("broken.json"), r::toString);
        assertTrue(r.out().isEmpty(), "no partial score may be printed: " + r);
    }

    @Test
    void missingImagesAreListedBeforeAnyWork() throws IOException {
        Path gt = twoImageGroundTruth();
        Path model = dir.resolve("tiny.onnx");
        TinyFcosModel.generate(model, 1, 80);
        CliTestSupport.Result r = run("eval", "-a", gt.toString(), "-m", model.toString(), "-i", dir.toString());
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("2 of 2 images") && r.err().contains("a.jpg"), r::toString);
    }

    @Test
    void runsAModelOnTheSharedCocoImages() throws IOException {
        Path coco = shared().resolve("data/coco-images");
        assumeTrue(Files.isDirectory(coco), "../shared/data/coco-images is absent");
        Path model = dir.resolve("tiny.onnx");
        TinyFcosModel.generate(model, 1, 80);
        Path out = dir.resolve("out");
        CliTestSupport.Result r = run("eval", "-a", coco.resolve("instances_54.json").toString(), "-m", model.toString(),
                "-i", coco.resolve("images").toString(), "--limit", "3", "--out", out.toString(), "--progress", "never",
                "--plot", out.resolve("plots").toString());
        assertEquals(0, r.code(), r::toString);
        assertEquals(12, r.out().lines().filter(l -> l.startsWith(" Average")).count(), r::toString);
        JsonNode results = JSON.readTree(out.resolve("coco_results.json").toFile());
        assertTrue(results.isArray());
        long[] ids = {42, 73, 74}; // the three smallest image ids of instances_54.json
        for (JsonNode d : results) {
            long id = d.get("image_id").asLong();
            assertTrue(id == ids[0] || id == ids[1] || id == ids[2], "detection on an image outside --limit: " + d);
            assertEquals(4, d.get("bbox").size());
        }
        // --plot: each visited image drawn at its original size, ground truth in white on top.
        JsonNode gt = JSON.readTree(coco.resolve("instances_54.json").toFile());
        JsonNode firstBox = null;
        for (JsonNode a : gt.get("annotations")) {
            if (a.get("image_id").asLong() == 42 && a.get("iscrowd").asInt() == 0) {
                firstBox = a.get("bbox");
                break;
            }
        }
        java.awt.image.BufferedImage plot = javax.imageio.ImageIO.read(out.resolve("plots/000000000042.png").toFile());
        java.awt.image.BufferedImage original = javax.imageio.ImageIO.read(coco.resolve("images/000000000042.jpg").toFile());
        assertEquals(original.getWidth(), plot.getWidth());
        assertEquals(original.getHeight(), plot.getHeight());
        int x = (int) Math.round(firstBox.get(0).asDouble() + firstBox.get(2).asDouble() / 2);
        int y = (int) Math.round(firstBox.get(1).asDouble());
        assertEquals(0xFFFFFF, plot.getRGB(x, y) & 0xFFFFFF, "top edge of the first ground-truth box is white");
        assertTrue(Files.exists(out.resolve("plots/000000000073.png")) && Files.exists(out.resolve("plots/000000000074.png")));
        assertEquals(2, run("eval", "-a", coco.resolve("instances_54.json").toString(), "-r", out.resolve("coco_results.json").toString(),
                "--plot", out.toString()).code(), "--plot without --model is a usage error");
    }
}
