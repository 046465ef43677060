package dev.fcos4j.io;

import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.preprocess.ImageMeta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PostprocessFixtureTest {
    @TempDir
    Path tmp;

    static final String CASE = """
            {"name": "tiny", "generator": "hand", "convention": "fcos", "score_threshold": 0.05, "nms_pre": 7,
             "iou_threshold": 0.6, "max_detections": 3, "batch": 1, "num_classes": 2,
             "levels": [{"stride": 8, "height": 1, "width": 2}],
             "images": [{"original_height": 20, "original_width": 30, "resized_height": 8, "resized_width": 16}],
             "cls": [[0.1, -1e-45, 3.4028235e38, -2.5]], "reg": [[1, 2, 3, 4, 5, 6, 7, 8]], "ctr": [[0.5, 0.25]],
             "expected": [[{"box": [1.5, 2, 3, 4.25], "score": 0.75, "class": 1}]]}
            """;

    @Test
    void readsEveryField() throws IOException {
        PostprocessFixture f = PostprocessFixture.read(Files.writeString(tmp.resolve("f.json"), CASE));
        assertEquals("tiny", f.name());
        assertEquals("hand", f.generator());
        assertEquals(Convention.FCOS, f.config().convention());
        assertEquals(0.05f, f.config().scoreThreshold());
        assertEquals(7, f.config().nmsPre());
        assertEquals(0.6f, f.config().iouThreshold());
        assertEquals(3, f.config().maxDetections());
        assertEquals(new ImageMeta(20, 30, 8, 16), f.images().get(0));
        assertEquals(8, f.levels().get(0).stride());
        HeadTensors h = f.heads();
        assertEquals(2, h.numClasses());
        // Floats read as double, then cast: the float32 extremes survive exactly.
        assertEquals(0.1f, h.cls(0).get(0));
        assertEquals(-Float.MIN_VALUE, h.cls(0).get(1));
        assertEquals(Float.MAX_VALUE, h.cls(0).get(2));
        assertEquals(8f, h.reg(0).get(7));
        assertEquals(0.25f, h.ctr(0).get(1));
        assertEquals(1, f.expected().get(0).size());
        assertEquals(4.25f, f.expected().get(0).get(0).y2());
        assertEquals("class_1", f.expected().get(0).get(0).label());
    }

    @Test
    void expectedIsOptional() throws IOException {
        String noExpected = CASE.replaceAll(",\\s*\"expected\".*\\]\\]", "");
        assertTrue(!noExpected.contains("expected"), noExpected);
        assertNull(PostprocessFixture.read(Files.writeString(tmp.resolve("f.json"), noExpected)).expected());
    }

    @Test
    void malformedFixturesNameFileAndField() throws IOException {
        Object[][] cases = {
                {CASE.replace("\"fcos\"", "\"yolo\""), "yolo"},
                {CASE.replace("\"nms_pre\": 7,", ""), "\"nms_pre\""},
                {CASE.replace("\"batch\": 1", "\"batch\": 2"), "batch is 2"},
                {CASE.replace("[[1, 2, 3, 4, 5, 6, 7, 8]]", "[[1, 2]]"), "reg_0"},
                {CASE.replace("[[0.5, 0.25]]", "[[0.5, \"x\"]]"), "ctr_0[1]"},
                {CASE.replace("\"box\": [1.5, 2, 3, 4.25]", "\"box\": [1.5]"), "expected[0][0]"},
                {CASE.replace("\"score_threshold\": 0.05", "\"score_threshold\": 5"), "score threshold"},
                {"[1, 2]", "not a JSON object"},
                {"{", "not valid JSON"},
        };
        for (Object[] c : cases) {
            Path file = Files.writeString(tmp.resolve("bad.json"), (String) c[0]);
            DataFileException e = assertThrows(DataFileException.class, () -> PostprocessFixture.read(file));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains((String) c[1]), c[1] + " in: " + e.getMessage());
        }
        Path missing = tmp.resolve("missing.json");
        DataFileException e = assertThrows(DataFileException.class, () -> PostprocessFixture.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }
}
