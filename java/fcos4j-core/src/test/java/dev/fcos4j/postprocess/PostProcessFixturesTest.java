package dev.fcos4j.postprocess;

import dev.fcos4j.Detection;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The committed fixtures (engines/fixtures/postprocess/*.json) against the reference, and the format itself. */
class PostProcessFixturesTest {
    static Path projectRoot() {
        String root = System.getProperty("fcos4j.root");
        Path p = root != null ? Path.of(root) : Path.of("../..");
        return p.toAbsolutePath().normalize();
    }

    static Path fixtureDir() {
        return projectRoot().resolve("engines/fixtures/postprocess");
    }

    static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> referenceReproducesEveryCommittedFixture() throws IOException {
        List<Path> files = files(fixtureDir());
        assertTrue(files.size() >= 12, "expected the committed fixtures under " + fixtureDir() + ", found " + files.size());
        return files.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            PostProcessFixtures.Fixture f = PostProcessFixtures.read(file);
            try (ReferencePostProcessor pp = new ReferencePostProcessor(f.config(), List.of())) {
                ReferenceCrossCheckTest.assertSame(f.expected(), pp.process(f.heads().build(), f.metas()), f.name());
            }
            // and the plain second reading agrees with the file too
            ReferenceCrossCheckTest.assertSame(f.expected(), NaiveSpec.run(f.config(), f.heads(), f.metas()), f.name() + " (naive)");
        }));
    }

    @Test
    void committedFixturesAreWhatTheGeneratorWrites() throws IOException {
        List<PostProcessFixtures.Fixture> generated = PostProcessFixtures.generate();
        assertEquals(12, generated.size());
        long total = 0;
        int detections = 0;
        for (PostProcessFixtures.Fixture f : generated) {
            Path file = fixtureDir().resolve(f.name() + ".json");
            assertTrue(Files.exists(file), "missing fixture " + file + " (regenerate, see PostProcessFixtures)");
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            PostProcessFixtures.write(f, bytes);
            assertEquals(new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.UTF_8),
                    bytes.toString(java.nio.charset.StandardCharsets.UTF_8), f.name() + " differs from the generator's output");
            total += Files.size(file);
            detections += f.expected().stream().mapToInt(List::size).sum();
            assertTrue(f.expected().stream().anyMatch(l -> !l.isEmpty()), f.name() + " has no detection at all");
        }
        assertTrue(total < 1_500_000, "fixtures too large: " + total + " bytes");
        assertTrue(detections > 100, "fixtures hold too few detections: " + detections);
    }

    @Test
    void writesFixturesWhenAsked() throws IOException {
        Assumptions.assumeTrue(Boolean.getBoolean("fcos4j.writeFixtures"), "set -Dfcos4j.writeFixtures=true to regenerate");
        PostProcessFixtures.write(fixtureDir());
    }

    @Test
    void shortestFloatTextRoundTripsExactly() {
        SplittableRandom r = new SplittableRandom(5);
        List<Float> values = new ArrayList<>(List.of(0.05f, 0.2f, 0.6f, 1f, 3f, -0f, 0f, Float.MIN_VALUE, Float.MAX_VALUE,
                -Float.MIN_NORMAL, 16777217f, 0.1f + 0.2f));
        for (int i = 0; i < 20000; i++) {
            values.add(Float.intBitsToFloat(r.nextInt()));
        }
        for (float v : values) {
            if (!Float.isFinite(v)) {
                continue;
            }
            String s = PostProcessFixtures.shortest(v);
            assertEquals(Float.floatToRawIntBits(v), Float.floatToRawIntBits((float) Double.parseDouble(s)), s);
        }
        assertEquals("0.05", PostProcessFixtures.shortest(0.05f));
        assertEquals("0.3", PostProcessFixtures.shortest(0.3f));
        assertEquals("-0.0", PostProcessFixtures.shortest(-0f));
        assertEquals("1.0000001", PostProcessFixtures.shortest(Math.nextUp(1f))); // 1 + 2^-23
        assertEquals("16777216", PostProcessFixtures.shortest(16777217f)); // rounds to 2^24 as a float
    }
}
