package dev.fcos4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.io.NpyArray;
import dev.fcos4j.io.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.fcos4j.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Heads with exactly one candidate: 2 levels (strides 8, 16) of a 32 x 32 input, 2 classes; every class logit
 * is -10 (probability 4.5e-5, far below every threshold) except class 1 at level 0, row 1, column 2, with logit 2
 * and centerness logit 0; its distances are (left 3, top 4, right 5, bottom 6).
 */
class PostprocessCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static List<NpyArray> oneCandidate(int batch) {
        List<NpyArray> arrays = new ArrayList<>();
        int[][] hw = {{4, 4}, {2, 2}};
        for (int l = 0; l < 2; l++) {
            int h = hw[l][0];
            int w = hw[l][1];
            float[] cls = new float[batch * 2 * h * w];
            Arrays.fill(cls, -10f);
            float[] reg = new float[batch * 4 * h * w];
            float[] ctr = new float[batch * h * w];
            if (l == 0) {
                for (int n = 0; n < batch; n++) {
                    int p = 1 * w + 2;
                    cls[(n * 2 + 1) * h * w + p] = 2f;
                    reg[(n * 4) * h * w + p] = 3f;
                    reg[(n * 4 + 1) * h * w + p] = 4f;
                    reg[(n * 4 + 2) * h * w + p] = 5f;
                    reg[(n * 4 + 3) * h * w + p] = 6f;
                }
            }
            arrays.add(NpyArray.float32("cls_" + l, new int[] {batch, 2, h, w}, cls));
            arrays.add(NpyArray.float32("reg_" + l, new int[] {batch, 4, h, w}, reg));
            arrays.add(NpyArray.float32("ctr_" + l, new int[] {batch, 1, h, w}, ctr));
        }
        return arrays;
    }

    private Path write(String name, List<NpyArray> arrays) {
        Path file = tmp.resolve(name);
        Npz.write(file, arrays, true);
        return file;
    }

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    private static void assertDetection(JsonNode d, double[] box, double score) {
        for (int i = 0; i < 4; i++) {
            assertEquals(box[i], d.get("box").get(i).asDouble(), 1e-4, "box[" + i + "] of " + d);
        }
        assertEquals(score, d.get("score").asDouble(), 1e-6, d.toString());
        assertEquals(1, d.get("class").asInt());
    }

    @Test
    void mmdetFcosAndTorchvisionDecodeTheCandidate() throws IOException {
        Path heads = write("one.npz", oneCandidate(1));
        double p = sigmoid(2.0);
        double c = sigmoid(0.0);
        // mmdet: point ((2 + 0.5) * 8, (1 + 0.5) * 8) = (20, 12); score = cls * ctr.
        CliTestSupport.Result r = run("postprocess", "--heads", heads.toString(), "--convention", "mmdet", "--strides", "8,16");
        assertEquals(0, r.code(), r.toString());
        JsonNode image = JSON.readTree(r.out()).get("images").get(0);
        assertEquals(1, image.get("detections").size(), r.out());
        assertDetection(image.get("detections").get(0), new double[] {17, 8, 25, 18}, p * c);
        assertEquals(32, image.get("width").asInt());

        // fcos: point (2 * 8 + 4, 1 * 8 + 4) = (20, 12); score = sqrt(cls * ctr).
        r = run("postprocess", "--heads", heads.toString(), "--convention", "fcos", "--strides", "8,16");
        assertEquals(0, r.code(), r.toString());
        assertDetection(JSON.readTree(r.out()).get("images").get(0).get("detections").get(0),
                new double[] {17, 8, 25, 18}, Math.sqrt(p * c));

        // torchvision: point (16, 8).
        r = run("postprocess", "--heads", heads.toString(), "--convention", "torchvision", "--strides", "8,16");
        assertEquals(0, r.code(), r.toString());
        assertDetection(JSON.readTree(r.out()).get("images").get(0).get("detections").get(0),
                new double[] {13, 4, 21, 14}, Math.sqrt(p * c));
    }

    @Test
    void rescalesToOriginalSizesAndWritesTheFile() throws IOException {
        Path heads = write("two.npz", oneCandidate(2));
        Path out = tmp.resolve("det.json");
        CliTestSupport.Result r = run("postprocess", "--heads", heads.toString(), "--convention", "mmdet",
                "--strides", "8,16", "--image-size", "32,32", "--original-size", "64,64", "--original-size", "32,16",
                "--out", out.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("wrote 2 detections for 2 images"), r.toString());
        JsonNode images = JSON.readTree(out.toFile()).get("images");
        double score = sigmoid(2.0) * 0.5;
        assertDetection(images.get(0).get("detections").get(0), new double[] {34, 16, 50, 36}, score);
        assertEquals(64, images.get(0).get("width").asInt());
        assertDetection(images.get(1).get("detections").get(0), new double[] {8.5, 8, 12.5, 18}, score);
        assertEquals(16, images.get(1).get("width").asInt());
        assertEquals(32, images.get(1).get("height").asInt());
    }

    @Test
    void thresholdOverrideRemovesTheCandidate() throws IOException {
        Path heads = write("one.npz", oneCandidate(1));
        // sigmoid(2) = 0.88 is the class probability mmdet thresholds.
        CliTestSupport.Result r = run("postprocess", "--heads", heads.toString(), "--convention", "mmdet",
                "--strides", "8,16", "--score-threshold", "0.9");
        assertEquals(0, r.code(), r.toString());
        assertEquals(0, JSON.readTree(r.out()).get("images").get(0).get("detections").size());
    }

    @Test
    void nanInClassLogitsFailsNamingTheTensor() {
        List<NpyArray> arrays = oneCandidate(1);
        NpyArray cls1 = arrays.get(3);
        float[] data = cls1.data();
        data[5] = Float.NaN;
        arrays.set(3, NpyArray.float32("cls_1", cls1.shape(), data));
        Path heads = write("nan.npz", arrays);
        CliTestSupport.Result r = run("postprocess", "--heads", heads.toString(), "--convention", "mmdet", "--strides", "8,16");
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains("cls_1"), r.toString());
        assertFalse(r.err().contains("\tat "), r.toString());
    }

    @Test
    void malformedHeadsFilesFailNamingFileAndTensor() throws IOException {
        // Missing file.
        Path missing = tmp.resolve("missing.npz");
        CliTestSupport.Result r = run("postprocess", "--heads", missing.toString(), "--convention", "mmdet");
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains(missing.toString()), r.toString());

        // Not a zip.
        Path junk = Files.writeString(tmp.resolve("junk.npz"), "junk");
        r = run("postprocess", "--heads", junk.toString(), "--convention", "mmdet");
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains(junk.toString()), r.toString());

        // Five default strides, two levels.
        Path two = write("two-levels.npz", oneCandidate(1));
        r = run("postprocess", "--heads", two.toString(), "--convention", "mmdet");
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains("2 levels") && r.err().contains("5 strides"), r.toString());

        // reg_1 missing, ctr_0 with 2 channels.
        List<NpyArray> arrays = new ArrayList<>(oneCandidate(1));
        arrays.removeIf(a -> a.name().equals("reg_1"));
        arrays.replaceAll(a -> a.name().equals("ctr_0") ? NpyArray.float32("ctr_0", new int[] {1, 2, 4, 4}, new float[32]) : a);
        Path broken = write("broken.npz", arrays);
        r = run("postprocess", "--heads", broken.toString(), "--convention", "mmdet", "--strides", "8,16");
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains("reg_1") && r.err().contains("ctr_0") && r.err().contains(broken.toString()),
                r.toString());
        assertFalse(r.err().contains("\tat "), r.toString());

        // --verbose adds the stack trace.
        r = run("postprocess", "--heads", broken.toString(), "--convention", "mmdet", "--strides", "8,16", "--verbose");
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains("\tat "), r.toString());
    }

    @Test
    void inconsistentOptionsAreUsageErrors() {
        Path heads = write("two.npz", oneCandidate(2));
        String h = heads.toString();
        CliTestSupport.Result r = run("postprocess", "--heads", h, "--convention", "mmdet", "--strides", "8,16",
                "--image-size", "32,32", "--image-size", "32,32", "--image-size", "32,32");
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        assertTrue(r.err().contains("--image-size was given 3 times for a batch of 2"), r.toString());

        r = run("postprocess", "--heads", h, "--convention", "mmdet", "--strides", "8,16", "--image-size", "40,32");
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        assertTrue(r.err().contains("exceeds"), r.toString());

        r = run("postprocess", "--heads", h, "--convention", "mmdet", "--strides", "8,16", "--backend", "cuda");
        if (r.code() != 0) { // without a GPU (or native build): a typed error naming the backend, not a crash
            assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
            assertTrue(r.err().contains("--backend cuda"), r.toString());
        }

        r = run("postprocess", "--heads", h, "--convention", "mmdet", "--strides", "8,16", "--score-threshold", "1.5");
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        assertTrue(r.err().contains("score threshold"), r.toString());

        r = run("postprocess", "--heads", h, "--convention", "mmdet", "--strides", "8,-16");
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
    }

    /** The one-candidate heads as a fixture (mmdet, strides 8 and 16), with the given expected detection. */
    private Path fixture(String name, String expectedBox, double expectedScore) throws IOException {
        List<NpyArray> arrays = oneCandidate(1);
        StringBuilder cls = new StringBuilder();
        StringBuilder reg = new StringBuilder();
        StringBuilder ctr = new StringBuilder();
        for (NpyArray a : arrays) {
            StringBuilder target = a.name().startsWith("cls") ? cls : a.name().startsWith("reg") ? reg : ctr;
            target.append(target.length() == 0 ? "" : ", ").append(Arrays.toString(a.data()));
        }
        String json = "{\"name\": \"" + name + "\", \"generator\": \"PostprocessCommandTest\", \"convention\": \"mmdet\","
                + " \"score_threshold\": 0.05, \"nms_pre\": 1000, \"iou_threshold\": 0.5, \"max_detections\": 100,"
                + " \"batch\": 1, \"num_classes\": 2,"
                + " \"levels\": [{\"stride\": 8, \"height\": 4, \"width\": 4}, {\"stride\": 16, \"height\": 2, \"width\": 2}],"
                + " \"images\": [{\"original_height\": 64, \"original_width\": 64, \"resized_height\": 32, \"resized_width\": 32}],"
                + " \"cls\": [" + cls + "], \"reg\": [" + reg + "], \"ctr\": [" + ctr + "],"
                + " \"expected\": [[{\"box\": " + expectedBox + ", \"score\": " + (float) expectedScore + ", \"class\": 1}]]}";
        return Files.writeString(tmp.resolve(name + ".json"), json);
    }

    @Test
    void fixtureCheckPassesAndFails() throws IOException {
        double score = sigmoid(2.0) * 0.5;
        // Box (17, 8, 25, 18) in the 32 x 32 input, doubled for the 64 x 64 original.
        Path good = fixture("good", "[34, 16, 50, 36]", score);
        CliTestSupport.Result r = run("postprocess", "--heads", good.toString(), "--check");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("fixture good: OK, 1 detection in 1 image match"), r.toString());

        Path bad = fixture("bad", "[34, 16, 50, 37]", score);
        r = run("postprocess", "--heads", bad.toString(), "--check");
        assertEquals(Main.EXIT_RUNTIME, r.code(), r.toString());
        assertTrue(r.err().contains("fixture bad: image 0 detection 0"), r.toString());
        // A looser tolerance accepts the 1-pixel difference (1 / 37 < 0.03).
        r = run("postprocess", "--heads", bad.toString(), "--check", "--tolerance", "0.03");
        assertEquals(0, r.code(), r.toString());

        // Without --check: the detections JSON, convention from the fixture.
        r = run("postprocess", "--heads", good.toString());
        assertEquals(0, r.code(), r.toString());
        JsonNode doc = JSON.readTree(r.out());
        assertEquals("mmdet", doc.get("info").get("convention").asText());
        assertDetection(doc.get("images").get(0).get("detections").get(0), new double[] {34, 16, 50, 36}, score);

        // Geometry options conflict with a fixture; --check needs one.
        r = run("postprocess", "--heads", good.toString(), "--image-size", "32,32");
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        Path npz = write("one.npz", oneCandidate(1));
        r = run("postprocess", "--heads", npz.toString(), "--convention", "mmdet", "--strides", "8,16", "--check");
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        r = run("postprocess", "--heads", npz.toString(), "--strides", "8,16");
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        assertTrue(r.err().contains("--convention is required"), r.toString());
    }

    @Test
    void labelsFileMustMatchTheClassCount() throws IOException {
        Path heads = write("one.npz", oneCandidate(1));
        Path labels = Files.writeString(tmp.resolve("labels.txt"), "cat\ndog\nbird\n");
        CliTestSupport.Result r = run("postprocess", "--heads", heads.toString(), "--convention", "mmdet",
                "--strides", "8,16", "--labels", labels.toString());
        assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
        assertTrue(r.err().contains("3 names") && r.err().contains("2 classes"), r.toString());
        assertEquals(List.of("cat", "dog"), PostprocessCommand.readLabels(Files.writeString(tmp.resolve("l.json"),
                "[\"cat\", \"dog\"]")));
    }
}
