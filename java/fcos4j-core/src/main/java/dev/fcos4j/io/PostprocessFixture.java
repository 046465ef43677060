package dev.fcos4j.io;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.Detection;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.preprocess.ImageMeta;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One post-processing fixture in the project's shared JSON format (engines/POSTPROCESS.md): configuration,
 * head tensors (flat float32 NCHW per level), image geometry and, when present, the expected detections.
 * Floats are read as double and cast to float, so values written as shortest float32 decimals come back exact.
 *
 * @param name      case name
 * @param generator what produced the case
 * @param config    convention and thresholds
 * @param batch     N
 * @param numClasses C
 * @param levels    level shapes with their strides
 * @param images    per-image geometry
 * @param cls       per level, N*C*H*W class logits
 * @param reg       per level, N*4*H*W distances
 * @param ctr       per level, N*H*W centerness logits
 * @param expected  per image, the expected detections (labels "class_N"); null when the file has none
 */
public record PostprocessFixture(String name, String generator, PostProcessConfig config, int batch, int numClasses,
                                 List<LevelShape> levels, List<ImageMeta> images, List<float[]> cls, List<float[]> reg,
                                 List<float[]> ctr, List<List<Detection>> expected) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Reads a fixture file.
     *
     * @throws DataFileException naming the file and the field at fault
     */
    public static PostprocessFixture read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonParseException e) {
            throw new DataFileException("fixture " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new DataFileException((Files.exists(file) ? "cannot read fixture " : "fixture does not exist: ") + file
                    + (Files.exists(file) ? ": " + e : ""), e);
        }
        String where = "fixture " + file;
        if (root == null || !root.isObject()) {
            throw new DataFileException(where + " is not a JSON object");
        }
        try {
            Convention convention = Convention.parse(text(root, "convention", where));
            PostProcessConfig config = new PostProcessConfig(convention, (float) number(root, "score_threshold", where),
                    integer(root, "nms_pre", where), (float) number(root, "iou_threshold", where),
                    integer(root, "max_detections", where));
            int batch = integer(root, "batch", where);
            int numClasses = integer(root, "num_classes", where);
            List<LevelShape> levels = new ArrayList<>();
            for (JsonNode l : array(root, "levels", where)) {
                levels.add(new LevelShape(integer(l, "stride", where + " levels"), integer(l, "height", where + " levels"),
                        integer(l, "width", where + " levels")));
            }
            List<ImageMeta> images = new ArrayList<>();
            for (JsonNode im : array(root, "images", where)) {
                String w = where + " images[" + images.size() + "]";
                images.add(new ImageMeta(integer(im, "original_height", w), integer(im, "original_width", w),
                        integer(im, "resized_height", w), integer(im, "resized_width", w)));
            }
            if (images.size() != batch) {
                throw new DataFileException(where + ": batch is " + batch + " but " + images.size() + " images are described");
            }
            List<float[]> cls = floats(root, "cls", levels.size(), where);
            List<float[]> reg = floats(root, "reg", levels.size(), where);
            List<float[]> ctr = floats(root, "ctr", levels.size(), where);
            List<List<Detection>> expected = null;
            if (root.has("expected") && !root.get("expected").isNull()) {
                expected = new ArrayList<>();
                for (JsonNode perImage : array(root, "expected", where)) {
                    List<Detection> dets = new ArrayList<>();
                    for (JsonNode d : perImage) {
                        String w = where + " expected[" + expected.size() + "][" + dets.size() + "]";
                        JsonNode box = d.get("box");
                        if (box == null || !box.isArray() || box.size() != 4) {
                            throw new DataFileException(w + ": \"box\" must be [x1, y1, x2, y2]");
                        }
                        int c = integer(d, "class", w);
                        dets.add(new Detection((float) box.get(0).asDouble(), (float) box.get(1).asDouble(),
                                (float) box.get(2).asDouble(), (float) box.get(3).asDouble(), (float) number(d, "score", w),
                                c, "class_" + c));
                    }
                    expected.add(dets);
                }
            }
            PostprocessFixture fixture = new PostprocessFixture(root.path("name").asText(file.getFileName().toString()),
                    root.path("generator").asText(""), config, batch, numClasses, levels, images, cls, reg, ctr, expected);
            try {
                fixture.heads(); // checks every array length against batch, classes and level shapes
            } catch (dev.fcos4j.ModelContractException e) {
                throw new DataFileException(where + ": " + e.getMessage(), e);
            }
            return fixture;
        } catch (IllegalArgumentException e) {
            // ConfigurationException (a bad convention or threshold) included: name the file.
            throw new DataFileException(where + ": " + e.getMessage(), e);
        } catch (dev.fcos4j.ConfigurationException e) {
            throw new DataFileException(where + ": " + e.getMessage(), e);
        }
    }

    /** The heads as {@link HeadTensors} over heap buffers (sizes checked against the shapes). */
    public HeadTensors heads() {
        List<FloatBuffer> c = cls.stream().map(FloatBuffer::wrap).toList();
        List<FloatBuffer> r = reg.stream().map(FloatBuffer::wrap).toList();
        List<FloatBuffer> t = ctr.stream().map(FloatBuffer::wrap).toList();
        return HeadTensors.of(batch, numClasses, levels, c, r, t);
    }

    private static JsonNode field(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new DataFileException(where + ": missing \"" + key + "\"");
        }
        return v;
    }

    private static String text(JsonNode node, String key, String where) {
        JsonNode v = field(node, key, where);
        if (!v.isTextual()) {
            throw new DataFileException(where + ": \"" + key + "\" must be a string");
        }
        return v.asText();
    }

    private static double number(JsonNode node, String key, String where) {
        JsonNode v = field(node, key, where);
        if (!v.isNumber()) {
            throw new DataFileException(where + ": \"" + key + "\" must be a number");
        }
        return v.asDouble();
    }

    private static int integer(JsonNode node, String key, String where) {
        JsonNode v = field(node, key, where);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new DataFileException(where + ": \"" + key + "\" must be an integer");
        }
        return v.asInt();
    }

    private static JsonNode array(JsonNode node, String key, String where) {
        JsonNode v = field(node, key, where);
        if (!v.isArray()) {
            throw new DataFileException(where + ": \"" + key + "\" must be an array");
        }
        return v;
    }

    private static List<float[]> floats(JsonNode root, String key, int levels, String where) {
        JsonNode all = array(root, key, where);
        if (all.size() != levels) {
            throw new DataFileException(where + ": \"" + key + "\" has " + all.size() + " levels, \"levels\" has " + levels);
        }
        List<float[]> out = new ArrayList<>(levels);
        for (int l = 0; l < levels; l++) {
            JsonNode values = all.get(l);
            if (!values.isArray()) {
                throw new DataFileException(where + ": \"" + key + "\"[" + l + "] must be an array of numbers");
            }
            float[] f = new float[values.size()];
            for (int i = 0; i < f.length; i++) {
                JsonNode v = values.get(i);
                if (!v.isNumber()) {
                    throw new DataFileException(where + ": " + key + "_" + l + "[" + i + "] is not a number");
                }
                f[i] = (float) v.asDouble();
            }
            out.add(f);
        }
        return out;
    }
}
