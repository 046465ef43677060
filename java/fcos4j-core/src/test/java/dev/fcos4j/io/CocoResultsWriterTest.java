package dev.fcos4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.Detection;
import dev.fcos4j.ResourceClosedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CocoResultsWriterTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void coco80MappingAgreesWithTheCocoAnnotationFile() throws IOException {
        Path gt = Paths.get(System.getProperty("fcos4j.shared", "../shared"), "data", "coco-images", "instances_54.json");
        assumeTrue(Files.isRegularFile(gt), "shared COCO annotations absent (" + gt + "), skipping");
        JsonNode categories = MAPPER.readTree(gt.toFile()).get("categories");
        Map<String, Integer> idByName = new HashMap<>();
        for (JsonNode c : categories) {
            idByName.put(c.get("name").asText(), c.get("id").asInt());
        }
        assertEquals(80, idByName.size());
        int[] ids = CocoCategories.categoryIdsFor(CocoCategories.NAMES, 80);
        for (int i = 0; i < 80; i++) {
            assertEquals(idByName.get(CocoCategories.NAMES.get(i)), ids[i], CocoCategories.NAMES.get(i));
        }
    }

    @Test
    void categoryIdsForOtherModels() {
        // Ids sorted ascending with exactly the 10 gaps COCO has (12, 26, 29, 30, 45, 66, 68, 69, 71, 83).
        int[] coco = CocoCategories.categoryIds();
        List<Integer> gaps = new ArrayList<>();
        for (int id = 1, k = 0; id <= 90; id++) {
            if (k < 80 && coco[k] == id) {
                k++;
            } else {
                gaps.add(id);
            }
        }
        assertEquals(List.of(12, 26, 29, 30, 45, 66, 68, 69, 71, 83), gaps);
        // Case and surrounding blanks do not matter.
        List<String> shouting = CocoCategories.NAMES.stream().map(n -> " " + n.toUpperCase() + " ").toList();
        assertTrue(CocoCategories.isCoco80(shouting));
        // Anything else: index + 1.
        assertArrayEquals(new int[] {1, 2, 3}, CocoCategories.categoryIdsFor(List.of("a", "b", "c"), 3));
        List<String> swapped = new ArrayList<>(CocoCategories.NAMES);
        swapped.set(0, "bicycle");
        swapped.set(1, "person");
        assertEquals(1, CocoCategories.categoryIdsFor(swapped, 80)[0]);
        assertEquals(80, CocoCategories.categoryIdsFor(swapped, 80)[79]);
        // torchvision's 91 entries: identity.
        List<String> tv = new ArrayList<>();
        tv.add("__background__");
        for (int id = 1, k = 0; id <= 90; id++) {
            if (k < 80 && coco[k] == id) {
                tv.add(CocoCategories.NAMES.get(k++));
            } else {
                tv.add("N/A");
            }
        }
        assertTrue(CocoCategories.isTorchvision91(tv));
        int[] tvIds = CocoCategories.categoryIdsFor(tv, 91);
        assertEquals(1, tvIds[1]);
        assertEquals(90, tvIds[90]);
        tv.set(12, "stop sign");
        assertFalse(CocoCategories.isTorchvision91(tv));
    }

    @Test
    @SuppressWarnings("try") // close() is called inside the try on purpose: it must be idempotent
    void writesCocoResultsRecords() throws IOException {
        Path file = tmp.resolve("results.json");
        try (CocoResultsWriter w = CocoResultsWriter.open(file, CocoCategories.NAMES, 80)) {
            w.write(139, List.of(new Detection(10.5f, 20.25f, 110.5f, 70.25f, 0.875f, 0, "person"),
                    new Detection(0f, 0f, 1f, 2f, 0.1f, 79, "toothbrush")));
            w.write(285, List.of());
            w.write(632, List.of(new Detection(1f, 2f, 3.3f, 4.4f, 0.3f, 11, "stop sign"),
                    new Detection(Float.NaN, 2f, 3f, 4f, 0.3f, 1, "bicycle")));
            assertEquals(3, w.count());
            w.close();
            w.close();
            assertThrows(ResourceClosedException.class, () -> w.write(1, List.of()));
        }
        JsonNode root = MAPPER.readTree(file.toFile());
        assertTrue(root.isArray());
        assertEquals(3, root.size());
        JsonNode first = root.get(0);
        assertEquals(139, first.get("image_id").asInt());
        assertEquals(1, first.get("category_id").asInt());
        assertEquals(10.5, first.get("bbox").get(0).asDouble());
        assertEquals(20.25, first.get("bbox").get(1).asDouble());
        assertEquals(100.0, first.get("bbox").get(2).asDouble());
        assertEquals(50.0, first.get("bbox").get(3).asDouble());
        assertEquals(0.875, first.get("score").asDouble());
        assertEquals(90, root.get(1).get("category_id").asInt());
        assertEquals(632, root.get(2).get("image_id").asInt());
        assertEquals(13, root.get(2).get("category_id").asInt());
        // float32 values round-trip: width is the float difference, written exactly.
        assertEquals(3.3f - 1f, (float) root.get(2).get("bbox").get(2).asDouble());
        assertEquals(0.3f, (float) root.get(2).get("score").asDouble());
        assertEquals(4, root.get(2).size(), "no extra fields");
    }

    @Test
    void classIdOutsideTheModelIsAnError() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CocoResultsWriter w = new CocoResultsWriter(out, new int[] {1, 2}, "memory")) {
            DataFileException e = assertThrows(DataFileException.class,
                    () -> w.write(1, List.of(new Detection(0, 0, 1, 1, 0.5f, 2, "class_2"))));
            assertTrue(e.getMessage().contains("class id 2") && e.getMessage().contains("memory"), e.getMessage());
        }
    }

    @Test
    void imageIdsFromFileNames() {
        assertEquals(139, CocoResultsWriter.imageIdFromFileName(Paths.get("/data/000000000139.jpg")));
        assertEquals(42, CocoResultsWriter.imageIdFromFileName(Paths.get("COCO_val2014_000000000042.jpg")));
        assertEquals(0, CocoResultsWriter.imageIdFromFileName(Paths.get("img_000.png")));
        assertEquals(-1, CocoResultsWriter.imageIdFromFileName(Paths.get("street.jpg")));
        assertEquals(-1, CocoResultsWriter.imageIdFromFileName(Paths.get("1234567890123456789012.jpg")));
    }
}
