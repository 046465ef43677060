package dev.fcos4j.io;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.Detection;
import dev.fcos4j.ResourceClosedException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * fcos4j's own per-image detections JSON (what {@code fcos4j detect} and {@code fcos4j postprocess} print):
 * <pre>{@code
 * {
 *   "info": {"model": "tiny-fcos", "convention": "mmdet"},
 *   "images": [
 *     {"source": "samples/street.jpg", "width": 640, "height": 480,
 *      "detections": [{"box": [x1, y1, x2, y2], "score": 0.87, "class": 0, "label": "person"}, ...]}
 *   ]
 * }
 * }</pre>
 * Boxes are (x1, y1, x2, y2) in original-image pixels; detection objects use the same keys as the
 * post-processing fixtures' {@code expected} entries (plus {@code label}). Floats are written as the shortest
 * decimal that reads back as the same float32. Detections with a non-finite value are skipped (JSON has no
 * NaN or infinity).
 */
public final class DetectionsJson {
    /** Shared factory: float32 values written with the shortest round-tripping decimal. */
    static final JsonFactory FACTORY = JsonFactory.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();
    private static final ObjectMapper MAPPER = new ObjectMapper(FACTORY);

    private DetectionsJson() {
    }

    /** Writes a whole document to {@code file}. */
    public static void write(Path file, Map<String, String> info, List<ImageDetections> images) {
        try (Writer w = open(Files.newOutputStream(file), info, file.toString())) {
            for (ImageDetections image : images) {
                w.write(image);
            }
        } catch (IOException e) {
            throw new DataFileException("cannot write detections file " + file + ": " + e, e);
        }
    }

    /** The whole document as a string (pretty-printed). */
    public static String toJson(Map<String, String> info, List<ImageDetections> images) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Writer w = open(out, info, "string")) {
            for (ImageDetections image : images) {
                w.write(image);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Starts a streamed document: write images one at a time, then close.
     *
     * @param out    closed with the writer
     * @param info   string key/values for the {@code info} object (may be empty)
     * @param target how errors name the destination
     */
    public static Writer open(OutputStream out, Map<String, String> info, String target) {
        return new Writer(out, info, target);
    }

    /**
     * Reads a document written by this class.
     *
     * @throws DataFileException naming the file and the image / detection index at fault
     */
    public static List<ImageDetections> read(Path file) {
        JsonNode root;
        try {
            root = MAPPER.readTree(file.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new DataFileException("detections file " + file + " does not exist", e);
        } catch (JsonParseException e) {
            throw new DataFileException("detections file " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new DataFileException("cannot read detections file " + file + ": " + e, e);
        }
        if (root == null || !root.path("images").isArray()) {
            throw new DataFileException("detections file " + file + " has no \"images\" array");
        }
        List<ImageDetections> out = new ArrayList<>();
        int i = 0;
        for (JsonNode image : root.get("images")) {
            String where = "detections file " + file + ", image #" + i;
            List<Detection> dets = new ArrayList<>();
            int j = 0;
            for (JsonNode d : image.path("detections")) {
                JsonNode box = d.path("box");
                if (!box.isArray() || box.size() != 4 || !d.path("score").isNumber() || !d.path("class").isInt()) {
                    throw new DataFileException(where + ", detection #" + j
                            + ": expected {\"box\": [x1, y1, x2, y2], \"score\": number, \"class\": integer}");
                }
                dets.add(new Detection((float) box.get(0).asDouble(), (float) box.get(1).asDouble(),
                        (float) box.get(2).asDouble(), (float) box.get(3).asDouble(), (float) d.get("score").asDouble(),
                        d.get("class").asInt(), d.path("label").asText("class_" + d.get("class").asInt())));
                j++;
            }
            out.add(new ImageDetections(image.hasNonNull("source") ? image.get("source").asText() : null,
                    image.path("width").asInt(), image.path("height").asInt(), dets));
            i++;
        }
        return out;
    }

    /** Streams one document; not thread-safe. */
    public static final class Writer implements AutoCloseable {
        private final JsonGenerator json;
        private final String target;
        private boolean closed;

        private Writer(OutputStream out, Map<String, String> info, String target) {
            this.target = target;
            try {
                json = FACTORY.createGenerator(out, JsonEncoding.UTF8);
                json.useDefaultPrettyPrinter();
                json.writeStartObject();
                json.writeObjectFieldStart("info");
                for (Map.Entry<String, String> e : info.entrySet()) {
                    json.writeStringField(e.getKey(), e.getValue());
                }
                json.writeEndObject();
                json.writeArrayFieldStart("images");
            } catch (IOException e) {
                throw new DataFileException("cannot write detections to " + target + ": " + e, e);
            }
        }

        /** Appends one image. */
        public void write(ImageDetections image) {
            if (closed) {
                throw new ResourceClosedException("detections writer for " + target + " is closed");
            }
            try {
                json.writeStartObject();
                if (image.source() != null) {
                    json.writeStringField("source", image.source());
                }
                json.writeNumberField("width", image.width());
                json.writeNumberField("height", image.height());
                json.writeArrayFieldStart("detections");
                for (Detection d : image.detections()) {
                    if (!(Float.isFinite(d.x1()) && Float.isFinite(d.y1()) && Float.isFinite(d.x2())
                            && Float.isFinite(d.y2()) && Float.isFinite(d.score()))) {
                        continue;
                    }
                    json.writeStartObject();
                    json.writeArrayFieldStart("box");
                    json.writeNumber(d.x1());
                    json.writeNumber(d.y1());
                    json.writeNumber(d.x2());
                    json.writeNumber(d.y2());
                    json.writeEndArray();
                    json.writeNumberField("score", d.score());
                    json.writeNumberField("class", d.classId());
                    json.writeStringField("label", d.label());
                    json.writeEndObject();
                }
                json.writeEndArray();
                json.writeEndObject();
                json.flush();
            } catch (IOException e) {
                throw new DataFileException("cannot write detections to " + target + ": " + e, e);
            }
        }

        /** Ends the document and closes the stream; idempotent. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                json.writeEndArray();
                json.writeEndObject();
                json.writeRaw('\n');
                json.close();
            } catch (IOException e) {
                throw new DataFileException("cannot finish detections file " + target + ": " + e, e);
            }
        }
    }
}
