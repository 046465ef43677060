package dev.fcos4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The reference COCO API's own example (100 val2014 images, 734 fake detections): all 12 statistics must match
 * the values it prints, which shared/data/coco-eval/expected-bbox-stats.json records.
 */
class CocoOracleTest {
    static Path oracleDir() {
        String shared = System.getProperty("fcos4j.shared", "../shared");
        return Path.of(shared, "data", "coco-eval");
    }

    @Test
    void reproducesTheReferenceStatistics() throws IOException {
        Path dir = oracleDir();
        Path gtFile = dir.resolve("instances_val2014_100.json");
        Path dtFile = dir.resolve("instances_val2014_fakebbox100_results.json");
        Path expectedFile = dir.resolve("expected-bbox-stats.json");
        assumeTrue(Files.isRegularFile(gtFile) && Files.isRegularFile(dtFile) && Files.isRegularFile(expectedFile),
                "shared COCO oracle data not found under " + dir + "; skipping");
        JsonNode expected = new ObjectMapper().readTree(expectedFile.toFile()).get("stats");
        CocoEvalResult r = CocoEvaluator.evaluate(gtFile, dtFile);
        double[] stats = r.stats();
        for (int i = 0; i < 12; i++) {
            assertEquals(expected.get(i).asDouble(), stats[i], 1e-12, CocoEvalResult.STAT_NAMES.get(i));
        }
        assertEquals(100, r.imageCount());
        assertEquals(734, r.detectionCount());
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
        System.out.println(r.summary());
        System.out.println(r.perClassTable());
        for (int i = 0; i < 12; i++) {
            System.out.println(CocoEvalResult.STAT_NAMES.get(i) + " " + stats[i] + " " + expected.get(i).asDouble() + " " + (stats[i] == expected.get(i).asDouble()));
        }
    }
}
