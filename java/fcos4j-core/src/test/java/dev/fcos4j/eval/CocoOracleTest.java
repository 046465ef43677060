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
        // The reference's printout for this pair (its repository's results file shows the same 3-place values).
        double[] printed = {0.505, 0.697, 0.573, 0.586, 0.519, 0.501, 0.387, 0.594, 0.595, 0.640, 0.566, 0.564};
        String[] lines = r.summary().split("\n");
        assertEquals(12, lines.length);
        assertEquals(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505", lines[0]);
        assertEquals(" Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.640", lines[9]);
        for (int i = 0; i < 12; i++) {
            assertTrue(lines[i].endsWith(String.format(java.util.Locale.ROOT, "] = %.3f", printed[i])), lines[i]);
        }
        // 80 categories; AP is undefined (-1) exactly for those without non-crowd ground truth.
        assertEquals(80, r.perClassAp().size());
        long undefined = r.perClassAp().stream().filter(c -> !c.defined()).count();
        assertEquals(r.perClassAp().stream().filter(c -> c.groundTruthCount() == 0).count(), undefined);
    }
}
