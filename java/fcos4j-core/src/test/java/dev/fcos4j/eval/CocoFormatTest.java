package dev.fcos4j.eval;

import dev.fcos4j.Fcos4jException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading COCO ground truth and results: accepted layouts, and a typed error naming file and record otherwise. */
class CocoFormatTest {
    private static final String CATS = "\"categories\":[{\"id\":1,\"name\":\"cat\",\"supercategory\":\"animal\"},{\"id\":2,\"name\":\"dog\"}]";
    private static final String IMAGES = "\"images\":[{\"id\":1,\"file_name\":\"a.jpg\",\"width\":640,\"height\":480},{\"id\":2}]";

    static CocoGroundTruth gt(String json) {
        return CocoGroundTruth.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "gt.json");
    }

    static CocoDetections dt(String json) {
        return CocoDetections.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "results.json");
    }

    static String ann(String fields) {
        return "{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":12,\"iscrowd\":0" + fields + "}";
    }

    static CocoFormatException gtError(String json) {
        return assertThrows(CocoFormatException.class, () -> gt(json));
    }

    static CocoFormatException dtError(String json) {
        return assertThrows(CocoFormatException.class, () -> dt(json));
    }

    static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
        }
    }

    @Test
    void readsGroundTruthInAnyKeyOrderSkippingSegmentationsAndUnknownKeys() {
        String json = "{\"info\":{\"year\":2014,\"nested\":[1,[2,{\"a\":3}]]},"
                + "\"annotations\":[" + ann(",\"segmentation\":[[1,2,3,4,5,6]]") + ","
                + "{\"segmentation\":{\"counts\":\"abc\",\"size\":[10,10]},\"area\":50.5,\"iscrowd\":true,\"image_id\":2,"
                + "\"bbox\":[0.5,1.5,10,20],\"category_id\":2,\"id\":7,\"ignore\":0}],"
                + IMAGES + ",\"licenses\":[]," + CATS + "}";
        CocoGroundTruth g = gt(json);
        assertArrayEquals(new long[]{1, 2}, g.imageIds());
        assertEquals(java.util.List.of(new CocoImage(1, "a.jpg", 640, 480), new CocoImage(2, "", 0, 0)), g.images());
        assertEquals(2, g.categories().size());
        assertEquals(new CocoCategory(2, "dog"), g.categories().get(1));
        assertEquals(2, g.annotationCount());
        assertEquals(7, g.annId(1));
        assertTrue(g.annCrowd(1));
        assertEquals(50.5, g.annArea(1), 0.0);
        assertArrayEquals(new double[]{1, 2, 3, 4, 0.5, 1.5, 10, 20}, g.annBoxes(), 0.0);
        assertEquals("gt.json", g.source());
    }

    @Test
    void resultsRoundTripThroughWriteJson() {
        CocoDetections d = CocoDetections.builder("mem").add(3, 1, 0.1, 0.2, 10.000000000000002, 1e-7, 0.123456789)
                .add(new CocoDetection(4, 2, -1.5, 0, 0, 3, 1)).build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        d.writeJson(out);
        CocoDetections back = dt(out.toString(StandardCharsets.UTF_8));
        assertEquals(2, back.size());
        assertEquals(d.get(0), back.get(0));
        assertEquals(d.get(1), back.get(1));
    }

    @Test
    void detectionCornersBecomeAnXywhBoxInDouble() {
        // float32 30.1 is 30.100000381469727; the width is computed after widening, as Python does after tolist().
        CocoDetections d = CocoDetections.builder("mem").add(5, 3, new dev.fcos4j.Detection(10.5f, 20.25f, 30.1f, 40.75f, 0.875f, 2, "x")).build();
        assertEquals(new CocoDetection(5, 3, 10.5, 20.25, 19.600000381469727, 20.5, 0.875), d.get(0));
    }

    @Test
    void resultsIgnoreExtraFieldsAndAcceptIntegralFloatIds() {
        CocoDetections d = dt("[{\"image_id\":1.0,\"category_id\":2,\"bbox\":[1,2,3,4],\"score\":1,\"id\":55,"
                + "\"area\":999,\"segmentation\":[[0,0,1,1]]}]");
        assertEquals(new CocoDetection(1, 2, 1, 2, 3, 4, 1), d.get(0));
        assertEquals(12, d.get(0).area(), 0.0);
    }

    @Test
    void malformedJsonNamesTheFileAndPosition() {
        assertMentions(gtError("{\"images\":[{\"id\":1}"), "gt.json", "malformed JSON", "line 1");
        assertMentions(dtError("[{\"image_id\":1,,}]"), "results.json", "malformed JSON");
        assertMentions(dtError("[{\"image_id\":1}] x"), "results.json");
        assertMentions(dtError(""), "results.json", "must be a JSON array");
    }

    @Test
    void wrongTopLevelShapesAreRejected() {
        assertMentions(dtError("{\"annotations\":[]}"), "results.json", "must be a JSON array");
        assertMentions(dtError("[1]"), "record [0]", "must be an object");
        assertMentions(gtError("[]"), "gt.json", "must be a JSON object");
        assertMentions(gtError("{" + IMAGES + ",\"annotations\":[]}"), "no 'categories'");
        assertMentions(gtError("{" + IMAGES + "," + CATS + "}"), "no 'annotations'");
        assertMentions(gtError("{\"images\":{}," + CATS + ",\"annotations\":[]}"), "'images' must be an array");
    }

    @Test
    void missingResultFieldsNameTheRecord() {
        String ok = "{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":0.5}";
        assertMentions(dtError("[" + ok + ",{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4]}]"), "results.json: record [1]", "'score' is missing");
        assertMentions(dtError("[{\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":0.5}]"), "record [0]", "'image_id'");
        assertMentions(dtError("[{\"image_id\":1,\"bbox\":[1,2,3,4],\"score\":0.5}]"), "record [0]", "'category_id'");
        assertMentions(dtError("[" + ok + "," + ok + ",{\"image_id\":1,\"category_id\":1,\"score\":0.5}]"), "record [2]", "'bbox'");
        assertMentions(dtError("[{\"image_id\":null,\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":0.5}]"), "record [0]", "image_id", "null");
    }

    @Test
    void invalidResultValuesNameTheRecord() {
        assertMentions(dtError("[{\"image_id\":1,\"category_id\":1,\"bbox\":[NaN,2,3,4],\"score\":0.5}]"), "record [0]", "non-finite");
        assertMentions(dtError("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,-3,4],\"score\":0.5}]"), "record [0]", "negative width or height");
        assertMentions(dtError("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,-0.5],\"score\":0.5}]"), "negative width or height");
        assertMentions(dtError("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3],\"score\":0.5}]"), "record [0]", "exactly 4");
        assertMentions(dtError("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4,5],\"score\":0.5}]"), "exactly 4");
        assertMentions(dtError("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,\"2\",3,4],\"score\":0.5}]"), "'bbox[1]' must be a number");
        assertMentions(dtError("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":Infinity}]"), "record [0]", "score must be finite");
        assertMentions(dtError("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":NaN}]"), "score must be finite");
        assertMentions(dtError("[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,1e400],\"score\":1}]"), "non-finite");
        assertMentions(dtError("[{\"image_id\":\"000001\",\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":1}]"), "'image_id' must be an integer id");
        assertMentions(dtError("[{\"image_id\":1.5,\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":1}]"), "'image_id' must be an integer id");
        assertMentions(dtError("[{\"image_id\":99999999999999999999,\"category_id\":1,\"bbox\":[1,2,3,4],\"score\":1}]"), "64-bit");
    }

    @Test
    void invalidGroundTruthNamesTheAnnotation() {
        String head = "{" + IMAGES + "," + CATS + ",\"annotations\":[" + ann("") + ",";
        assertMentions(gtError(head + "{\"id\":2,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"iscrowd\":0}]}"),
                "gt.json: annotations[1] (id 2)", "'area' is missing");
        assertMentions(gtError(head + "{\"id\":2,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":1}]}"), "annotations[1]", "'iscrowd'");
        assertMentions(gtError(head + "{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":1,\"iscrowd\":0}]}"), "annotations[1]", "'id' is missing");
        assertMentions(gtError(head + "{\"id\":2,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,-3,4],\"area\":1,\"iscrowd\":0}]}"), "annotations[1] (id 2)", "negative");
        assertMentions(gtError(head + "{\"id\":2,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":NaN,\"iscrowd\":0}]}"), "annotations[1]", "area");
        assertMentions(gtError(head + "{\"id\":2,\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4],\"area\":1,\"iscrowd\":0.5}]}"), "annotations[1]", "iscrowd");
        assertMentions(gtError(head + ann("") + "]}"), "annotations[1] has id 1, already used by annotations[0]");
        assertMentions(gtError("{\"images\":[{\"file_name\":\"x\"}]," + CATS + ",\"annotations\":[]}"), "images[0]", "'id' is missing");
        assertMentions(gtError("{" + IMAGES + ",\"categories\":[{\"id\":1}],\"annotations\":[]}"), "categories[0] (id 1)", "'name' is missing");
    }

    @Test
    void filesAreNamedInErrors(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nope.json");
        assertMentions(assertThrows(CocoFormatException.class, () -> CocoGroundTruth.load(missing)), "nope.json", "not found");
        assertMentions(assertThrows(CocoFormatException.class, () -> CocoDetections.load(missing)), "nope.json", "not found");
        Path bad = dir.resolve("bad-results.json");
        Files.writeString(bad, "[{\"image_id\":1,\"category_id\":1,\"bbox\":[1,2,3,4]}]");
        Path good = dir.resolve("gt.json");
        Files.writeString(good, "{" + IMAGES + "," + CATS + ",\"annotations\":[" + ann("") + "]}");
        CocoFormatException e = assertThrows(CocoFormatException.class, () -> CocoEvaluator.evaluate(good, bad));
        assertMentions(e, bad.toString(), "record [0]", "'score'");
        // Rooted in the library's exception type, so callers can catch all fcos4j failures at once.
        assertTrue(e instanceof Fcos4jException);
    }
}
