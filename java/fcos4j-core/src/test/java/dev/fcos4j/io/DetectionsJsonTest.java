package dev.fcos4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.Detection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DetectionsJsonTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripsFloat32ValuesExactly() {
        Random r = new Random(3);
        List<Detection> dets = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            float x1 = r.nextFloat() * 1000f;
            float y1 = Float.intBitsToFloat(r.nextInt(0x3F800000)); // arbitrary small floats, incl. subnormals
            dets.add(new Detection(x1, y1, x1 + r.nextFloat() * 50f, y1 + 1e-3f, r.nextFloat(), i % 7, "c" + (i % 7)));
        }
        Path file = tmp.resolve("d.json");
        Map<String, String> info = new LinkedHashMap<>();
        info.put("model", "m");
        info.put("convention", "mmdet");
        DetectionsJson.write(file, info, List.of(new ImageDetections("a.jpg", 640, 480, dets),
                new ImageDetections(null, 1, 2, List.of())));
        List<ImageDetections> back = DetectionsJson.read(file);
        assertEquals(2, back.size());
        assertEquals(new ImageDetections("a.jpg", 640, 480, dets), back.get(0));
        assertNull(back.get(1).source());
        assertEquals(0, back.get(1).detections().size());
    }

    @Test
    void documentLayout() throws IOException {
        String text = DetectionsJson.toJson(Map.of("model", "tiny"), List.of(new ImageDetections("x.png", 30, 20,
                List.of(new Detection(1.5f, 2f, 10f, 12.25f, 0.5f, 3, "cat"),
                        new Detection(Float.NaN, 0, 1, 1, 0.4f, 1, "dog")))));
        JsonNode root = new ObjectMapper().readTree(text);
        assertEquals("tiny", root.get("info").get("model").asText());
        JsonNode image = root.get("images").get(0);
        assertEquals("x.png", image.get("source").asText());
        assertEquals(30, image.get("width").asInt());
        assertEquals(20, image.get("height").asInt());
        assertEquals(1, image.get("detections").size(), "the NaN detection is skipped");
        JsonNode d = image.get("detections").get(0);
        assertEquals("[1.5,2.0,10.0,12.25]", d.get("box").toString());
        assertEquals(0.5, d.get("score").asDouble());
        assertEquals(3, d.get("class").asInt());
        assertEquals("cat", d.get("label").asText());
    }

    @Test
    void malformedFilesNameTheFileAndRecord() throws IOException {
        Path notJson = Files.writeString(tmp.resolve("bad.json"), "{ nope");
        DataFileException e = assertThrows(DataFileException.class, () -> DetectionsJson.read(notJson));
        assertTrue(e.getMessage().contains(notJson.toString()) && e.getMessage().contains("not valid JSON"), e.getMessage());

        Path noImages = Files.writeString(tmp.resolve("empty.json"), "{}");
        e = assertThrows(DataFileException.class, () -> DetectionsJson.read(noImages));
        assertTrue(e.getMessage().contains("\"images\""), e.getMessage());

        Path badBox = Files.writeString(tmp.resolve("box.json"),
                "{\"images\":[{\"detections\":[]},{\"detections\":[{\"box\":[1,2,3],\"score\":0.5,\"class\":1}]}]}");
        e = assertThrows(DataFileException.class, () -> DetectionsJson.read(badBox));
        assertTrue(e.getMessage().contains("image #1, detection #0"), e.getMessage());

        Path missing = tmp.resolve("missing.json");
        e = assertThrows(DataFileException.class, () -> DetectionsJson.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }
}
