package dev.fcos4j.postprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.Detection;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.preprocess.ImageMeta;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Java reference post-processing against torchvision's own {@code FCOS.postprocess_detections} +
 * {@code GeneralizedRCNNTransform.postprocess}, on the goldens in engines/goldens/torchvision (made by its
 * generate.py, which documents each case). Same detections, same order, boxes and scores to 1e-6 (relative
 * above magnitude 1).
 */
class TorchvisionGoldenTest {
    private static final String GOLDEN_DIR = "engines/goldens/torchvision";
    private static final double TOLERANCE = 1e-6;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The goldens are committed with the sources, so their absence is a failure, not a skip. */
    static List<Path> goldenFiles() {
        Path dir = locate();
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> list = files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
            assertFalse(list.isEmpty(), "no *.json golden in " + dir);
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private static Path locate() {
        String root = System.getProperty("fcos4j.root");
        if (root != null && !root.isBlank() && Files.isDirectory(Paths.get(root, GOLDEN_DIR))) {
            return Paths.get(root, GOLDEN_DIR);
        }
        // Run outside Maven (IDE): walk up from the working directory to the repository root.
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve(GOLDEN_DIR))) {
                return p.resolve(GOLDEN_DIR);
            }
        }
        return fail("cannot find " + GOLDEN_DIR + " (system property fcos4j.root = " + root + ", working directory "
                + Paths.get("").toAbsolutePath() + ")");
    }

    /** One golden case: the head tensors and geometry it feeds, and torchvision's detections. */
    record Golden(String name, PostProcessConfig config, HeadTensors heads, List<ImageMeta> metas,
                  List<List<Expected>> expected) {
    }

    record Expected(float x1, float y1, float x2, float y2, float score, int classId) {
    }

    static Golden read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read golden " + file, e);
        }
        String name = root.get("name").asText();
        assertEquals("torchvision", root.get("convention").asText(), name + ": convention");
        PostProcessConfig config = new PostProcessConfig(Convention.parse(root.get("convention").asText()),
                (float) root.get("score_threshold").asDouble(), root.get("nms_pre").asInt(),
                (float) root.get("iou_threshold").asDouble(), root.get("max_detections").asInt());
        int batch = root.get("batch").asInt();
        int numClasses = root.get("num_classes").asInt();
        List<LevelShape> levels = new ArrayList<>();
        for (JsonNode l : root.get("levels")) {
            levels.add(new LevelShape(l.get("stride").asInt(), l.get("height").asInt(), l.get("width").asInt()));
        }
        List<ImageMeta> metas = new ArrayList<>();
        for (JsonNode m : root.get("images")) {
            metas.add(new ImageMeta(m.get("original_height").asInt(), m.get("original_width").asInt(),
                    m.get("resized_height").asInt(), m.get("resized_width").asInt()));
        }
        assertEquals(batch, metas.size(), name + ": one image entry per batch item");
        HeadTensors heads = HeadTensors.of(batch, numClasses, levels, buffers(root.get("cls")),
                buffers(root.get("reg")), buffers(root.get("ctr")));
        List<List<Expected>> expected = new ArrayList<>();
        for (JsonNode image : root.get("expected")) {
            List<Expected> dets = new ArrayList<>();
            for (JsonNode d : image) {
                JsonNode b = d.get("box");
                dets.add(new Expected(f(b.get(0)), f(b.get(1)), f(b.get(2)), f(b.get(3)), f(d.get("score")),
                        d.get("class").asInt()));
            }
            expected.add(dets);
        }
        assertEquals(batch, expected.size(), name + ": one expected list per batch item");
        return new Golden(name, config, heads, metas, expected);
    }

    /** Fixture floats are float32 values written in decimal: read as double, then cast. */
    private static float f(JsonNode n) {
        return (float) n.asDouble();
    }

    private static List<FloatBuffer> buffers(JsonNode perLevel) {
        List<FloatBuffer> out = new ArrayList<>();
        for (JsonNode level : perLevel) {
            float[] v = new float[level.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = f(level.get(i));
            }
            out.add(FloatBuffer.wrap(v));
        }
        return out;
    }

    /** The files themselves: shapes consistent, finite, expected lists score-descending and within the cap. */
    @TestFactory
    Stream<DynamicTest> goldensAreWellFormed() {
        return goldenFiles().stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            Golden g = read(file); // HeadTensors.of checks every tensor size against the level shapes
            for (int l = 0; l < g.heads().numLevels(); l++) {
                assertAllFinite(g.heads().cls(l), g.name() + " cls_" + l);
                assertAllFinite(g.heads().reg(l), g.name() + " reg_" + l);
                assertAllFinite(g.heads().ctr(l), g.name() + " ctr_" + l);
            }
            for (List<Expected> dets : g.expected()) {
                assertTrue(dets.size() <= g.config().maxDetections(), g.name() + ": more than max_detections");
                for (int i = 1; i < dets.size(); i++) {
                    assertTrue(dets.get(i - 1).score() >= dets.get(i).score(), g.name() + ": not score-descending");
                }
                for (Expected e : dets) {
                    assertTrue(e.classId() >= 0 && e.classId() < g.heads().numClasses(), g.name() + ": class id");
                    assertTrue(e.score() > g.config().scoreThreshold(), g.name() + ": score below threshold");
                }
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> referenceMatchesTorchvision() {
        return goldenFiles().stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            Golden g = read(file);
            List<List<Detection>> actual;
            try (ReferencePostProcessor pp = new ReferencePostProcessor(g.config(), List.of())) {
                actual = pp.process(g.heads(), g.metas());
            }
            assertEquals(g.expected().size(), actual.size(), g.name() + ": images");
            for (int i = 0; i < actual.size(); i++) {
                List<Expected> want = g.expected().get(i);
                List<Detection> got = actual.get(i);
                String where = g.name() + " image " + i;
                assertEquals(want.size(), got.size(), where + ": number of detections");
                for (int k = 0; k < want.size(); k++) {
                    Expected e = want.get(k);
                    Detection d = got.get(k);
                    String at = where + " detection " + k + " (expected " + e + ", got " + d + ")";
                    assertEquals(e.classId(), d.classId(), at + ": class");
                    assertEquals("class_" + e.classId(), d.label(), at + ": label without class names");
                    near(e.x1(), d.x1(), at + ": x1");
                    near(e.y1(), d.y1(), at + ": y1");
                    near(e.x2(), d.x2(), at + ": x2");
                    near(e.y2(), d.y2(), at + ": y2");
                    near(e.score(), d.score(), at + ": score");
                }
            }
        }));
    }

    private static void near(float expected, float actual, String message) {
        double tol = TOLERANCE * Math.max(1.0, Math.abs(expected));
        assertTrue(Math.abs((double) expected - actual) <= tol, () -> message + ": " + actual + " vs " + expected);
    }

    private static void assertAllFinite(FloatBuffer b, String name) {
        for (int i = 0; i < b.capacity(); i++) {
            float v = b.get(i);
            if (!Float.isFinite(v)) {
                fail(name + "[" + i + "] is " + v);
            }
        }
    }
}
