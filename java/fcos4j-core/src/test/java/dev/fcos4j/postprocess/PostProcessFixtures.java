package dev.fcos4j.postprocess;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.Detection;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.preprocess.ImageMeta;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The post-processing fixture format of engines/POSTPROCESS.md (one JSON file per case, shared by the Java
 * reference, the C++ host reference and the CUDA kernels): reading, writing, and the seeded generator of the
 * committed cases under engines/fixtures/postprocess/.
 *
 * <p>Regenerate: {@code mvn -B -ntp -o -q test -pl java/fcos4j-core -Dtest=PostProcessFixturesTest
 * -Dfcos4j.writeFixtures=true} (or run {@link #main} with the output folder).
 */
final class PostProcessFixtures {
    private PostProcessFixtures() {
    }

    /** One parsed fixture. */
    record Fixture(String name, PostProcessConfig config, TestHeads heads, List<ImageMeta> metas,
                   List<List<Detection>> expected) {
    }

    // ------------------------------------------------------------------------------------------- generation

    /** The committed cases: 4 per convention (few, dense with caps, ties in a batch of 3, threshold-0 edge). */
    static List<Fixture> generate() {
        List<Fixture> all = new ArrayList<>();
        long seed = 1000;
        for (Convention c : Convention.values()) {
            PostProcessConfig d = PostProcessConfig.defaults(c);
            all.add(make(c.id() + "_few_b1", d, "few", 1, 4, seed++));
            all.add(make(c.id() + "_dense_caps_b2", d.withNmsPre(30).withMaxDetections(20), "dense", 2, 5, seed++));
            all.add(make(c.id() + "_ties_b3", d.withNmsPre(25).withIouThreshold(0.45f), "ties", 3, 3, seed++));
            all.add(make(c.id() + "_edge_thr0_b2", d.withScoreThreshold(0f).withNmsPre(7).withMaxDetections(9)
                    .withIouThreshold(0.3f), "dense", 2, 2, seed++));
        }
        return all;
    }

    private static Fixture make(String name, PostProcessConfig cfg, String mode, int batch, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        // a 64x80 padded input: levels 8x10, 4x5, 2x3, 1x2
        TestHeads h = new TestHeads(batch, classes, TestHeads.level(8, 8, 10), TestHeads.level(16, 4, 5),
                TestHeads.level(32, 2, 3), TestHeads.level(64, 1, 2));
        for (int l = 0; l < h.levels.size(); l++) {
            int stride = h.levels.get(l).stride();
            for (int i = 0; i < h.cls[l].length; i++) {
                h.cls[l][i] = switch (mode) {
                    case "few" -> r.nextInt(12) == 0 ? (float) r.nextDouble(-3.5, 3) : (float) r.nextDouble(-12, -4);
                    case "dense" -> (float) r.nextDouble(-2.5, 3);
                    default -> r.nextInt(5) * 0.75f - 1.5f; // few distinct values: ties everywhere
                };
            }
            for (int i = 0; i < h.ctr[l].length; i++) {
                h.ctr[l][i] = mode.equals("ties") ? r.nextInt(3) - 1f : (float) r.nextDouble(-3, 3);
            }
            for (int i = 0; i < h.reg[l].length; i++) {
                h.reg[l][i] = mode.equals("ties") ? r.nextInt(5) * 4f : (float) r.nextDouble(0, 5 * stride);
            }
        }
        List<ImageMeta> pool = List.of(new ImageMeta(120, 150, 64, 80), ImageMeta.unscaled(64, 80),
                new ImageMeta(37, 53, 59, 77));
        List<ImageMeta> metas = pool.subList(0, batch);
        List<List<Detection>> expected;
        try (ReferencePostProcessor pp = new ReferencePostProcessor(cfg, List.of())) {
            expected = pp.process(h.build(), metas);
        }
        return new Fixture(name, cfg, h, metas, expected);
    }

    /** Writes every generated case to {@code dir}. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "engines/fixtures/postprocess");
        write(dir);
    }

    static void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Fixture f : generate()) {
            try (OutputStream os = Files.newOutputStream(dir.resolve(f.name() + ".json"))) {
                write(f, os);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- writing

    static void write(Fixture f, OutputStream os) throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(os, JsonEncoding.UTF8)) {
            PostProcessConfig c = f.config();
            g.writeStartObject();
            g.writeStringField("name", f.name());
            g.writeStringField("generator", "fcos4j Java ReferencePostProcessor (PostProcessFixtures.generate)");
            g.writeStringField("convention", c.convention().id());
            g.writeFieldName("score_threshold");
            g.writeNumber(shortest(c.scoreThreshold()));
            g.writeNumberField("nms_pre", c.nmsPre());
            g.writeFieldName("iou_threshold");
            g.writeNumber(shortest(c.iouThreshold()));
            g.writeNumberField("max_detections", c.maxDetections());
            g.writeNumberField("batch", f.heads().batch);
            g.writeNumberField("num_classes", f.heads().numClasses);
            g.writeArrayFieldStart("levels");
            for (LevelShape s : f.heads().levels) {
                g.writeRaw('\n');
                g.writeStartObject();
                g.writeNumberField("stride", s.stride());
                g.writeNumberField("height", s.height());
                g.writeNumberField("width", s.width());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("images");
            for (ImageMeta m : f.metas()) {
                g.writeRaw('\n');
                g.writeStartObject();
                g.writeNumberField("original_height", m.originalHeight());
                g.writeNumberField("original_width", m.originalWidth());
                g.writeNumberField("resized_height", m.resizedHeight());
                g.writeNumberField("resized_width", m.resizedWidth());
                g.writeEndObject();
            }
            g.writeEndArray();
            writeLevels(g, "cls", f.heads().cls);
            writeLevels(g, "reg", f.heads().reg);
            writeLevels(g, "ctr", f.heads().ctr);
            g.writeArrayFieldStart("expected");
            for (List<Detection> image : f.expected()) {
                g.writeRaw('\n');
                g.writeStartArray();
                for (Detection d : image) {
                    g.writeRaw('\n');
                    g.writeStartObject();
                    g.writeArrayFieldStart("box");
                    for (float v : new float[] {d.x1(), d.y1(), d.x2(), d.y2()}) {
                        g.writeNumber(shortest(v));
                    }
                    g.writeEndArray();
                    g.writeFieldName("score");
                    g.writeNumber(shortest(d.score()));
                    g.writeNumberField("class", d.classId());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeRaw('\n');
        }
    }

    private static void writeLevels(JsonGenerator g, String field, float[][] levels) throws IOException {
        g.writeArrayFieldStart(field);
        for (float[] level : levels) {
            g.writeRaw('\n');
            g.writeStartArray();
            for (float v : level) {
                g.writeNumber(shortest(v));
            }
            g.writeEndArray();
        }
        g.writeEndArray();
    }

    /** The shortest decimal that reads back (as double, then cast to float) to exactly {@code v}. */
    static String shortest(float v) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException("fixtures hold finite values only, got " + v);
        }
        if (v == 0f) {
            return Float.floatToRawIntBits(v) == 0 ? "0.0" : "-0.0";
        }
        BigDecimal exact = new BigDecimal(v);
        for (int digits = 1; digits <= 9; digits++) {
            BigDecimal rounded = exact.round(new MathContext(digits));
            String s = rounded.stripTrailingZeros().toString();
            if ((float) Double.parseDouble(s) == v) {
                return s;
            }
        }
        throw new AssertionError("9 significant digits always round-trip a float: " + v);
    }

    // ---------------------------------------------------------------------------------------------- reading

    static Fixture read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        Convention conv = Convention.parse(root.get("convention").asText());
        PostProcessConfig cfg = new PostProcessConfig(conv, f(root.get("score_threshold")), root.get("nms_pre").asInt(),
                f(root.get("iou_threshold")), root.get("max_detections").asInt());
        List<LevelShape> levels = new ArrayList<>();
        for (JsonNode l : root.get("levels")) {
            levels.add(new LevelShape(l.get("stride").asInt(), l.get("height").asInt(), l.get("width").asInt()));
        }
        int batch = root.get("batch").asInt();
        TestHeads h = new TestHeads(batch, root.get("num_classes").asInt(), levels.toArray(new LevelShape[0]));
        fill(root.get("cls"), h.cls, "cls", file);
        fill(root.get("reg"), h.reg, "reg", file);
        fill(root.get("ctr"), h.ctr, "ctr", file);
        List<ImageMeta> metas = new ArrayList<>();
        for (JsonNode m : root.get("images")) {
            metas.add(new ImageMeta(m.get("original_height").asInt(), m.get("original_width").asInt(),
                    m.get("resized_height").asInt(), m.get("resized_width").asInt()));
        }
        List<List<Detection>> expected = new ArrayList<>();
        for (JsonNode image : root.get("expected")) {
            List<Detection> dets = new ArrayList<>();
            for (JsonNode d : image) {
                JsonNode b = d.get("box");
                int c = d.get("class").asInt();
                dets.add(new Detection(f(b.get(0)), f(b.get(1)), f(b.get(2)), f(b.get(3)), f(d.get("score")), c,
                        "class_" + c));
            }
            expected.add(dets);
        }
        return new Fixture(root.get("name").asText(), cfg, h, metas, expected);
    }

    private static float f(JsonNode n) {
        return (float) n.asDouble();
    }

    private static void fill(JsonNode node, float[][] target, String what, Path file) {
        if (node == null || node.size() != target.length) {
            throw new IllegalArgumentException(file + ": '" + what + "' must hold one array per level");
        }
        for (int l = 0; l < target.length; l++) {
            JsonNode values = node.get(l);
            if (values.size() != target[l].length) {
                throw new IllegalArgumentException(file + ": " + what + "_" + l + " has " + values.size()
                        + " values, expected " + target[l].length);
            }
            for (int i = 0; i < target[l].length; i++) {
                target[l][i] = f(values.get(i));
            }
        }
    }
}
