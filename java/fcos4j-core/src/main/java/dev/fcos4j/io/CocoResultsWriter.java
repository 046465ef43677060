package dev.fcos4j.io;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.fcos4j.Detection;
import dev.fcos4j.ResourceClosedException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Streams detections as a COCO results file, the JSON array {@code pycocotools.COCO.loadRes} reads:
 * {@code [{"image_id": 139, "category_id": 1, "bbox": [x, y, w, h], "score": 0.87}, ...]} with
 * x = x1, y = y1, w = x2 - x1, h = y2 - y1 in original-image pixels (float32 values, shortest exact repr).
 * Category ids come from {@link CocoCategories#categoryIdsFor}. Not thread-safe; close it to finish the array.
 */
public final class CocoResultsWriter implements AutoCloseable {
    private static final Pattern TRAILING_DIGITS = Pattern.compile("(\\d+)$");

    private final JsonGenerator json;
    private final int[] categoryIds;
    private final String target;
    private long written;
    private boolean closed;

    /**
     * @param out         receives the JSON; closed by {@link #close()}
     * @param categoryIds category id for each class index
     * @param target      how errors name the destination (a file name)
     */
    public CocoResultsWriter(OutputStream out, int[] categoryIds, String target) {
        this.categoryIds = categoryIds.clone();
        this.target = target;
        try {
            this.json = DetectionsJson.FACTORY.createGenerator(out, JsonEncoding.UTF8);
            json.writeStartArray();
        } catch (IOException e) {
            throw new DataFileException("cannot write COCO results to " + target + ": " + e, e);
        }
    }

    /** Opens {@code file} (replacing it) for a model with these class names. */
    public static CocoResultsWriter open(Path file, List<String> classNames, int numClasses) {
        try {
            return new CocoResultsWriter(Files.newOutputStream(file), CocoCategories.categoryIdsFor(classNames, numClasses),
                    file.toString());
        } catch (IOException e) {
            throw new DataFileException("cannot create COCO results file " + file + ": " + e, e);
        }
    }

    /**
     * The COCO image id a file name carries: the number its base name ends with ({@code 000000000139.jpg} and
     * {@code COCO_val2014_000000000139.jpg} give 139), or -1 when it ends with no digits (or too many).
     */
    public static long imageIdFromFileName(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        Matcher m = TRAILING_DIGITS.matcher(stem);
        if (!m.find()) {
            return -1;
        }
        String digits = m.group(1).replaceFirst("^0+(?=\\d)", "");
        return digits.length() > 18 ? -1 : Long.parseLong(digits);
    }

    /** Appends the detections of one image. Detections with a non-finite box or score are skipped. */
    public void write(long imageId, List<Detection> detections) {
        if (closed) {
            throw new ResourceClosedException("COCO results writer for " + target + " is closed");
        }
        try {
            for (Detection d : detections) {
                if (!(Float.isFinite(d.x1()) && Float.isFinite(d.y1()) && Float.isFinite(d.x2()) && Float.isFinite(d.y2())
                        && Float.isFinite(d.score()))) {
                    continue;
                }
                if (d.classId() < 0 || d.classId() >= categoryIds.length) {
                    throw new DataFileException("detection class id " + d.classId() + " is outside the model's "
                            + categoryIds.length + " classes (writing " + target + ")");
                }
                json.writeStartObject();
                json.writeNumberField("image_id", imageId);
                json.writeNumberField("category_id", categoryIds[d.classId()]);
                json.writeArrayFieldStart("bbox");
                json.writeNumber(d.x1());
                json.writeNumber(d.y1());
                json.writeNumber(d.x2() - d.x1());
                json.writeNumber(d.y2() - d.y1());
                json.writeEndArray();
                json.writeNumberField("score", d.score());
                json.writeEndObject();
                written++;
            }
        } catch (IOException e) {
            throw new DataFileException("cannot write COCO results to " + target + ": " + e, e);
        }
    }

    /** Number of detection records written so far. */
    public long count() {
        return written;
    }

    /** Ends the JSON array and closes the stream; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            json.writeEndArray();
            json.writeRaw('\n');
            json.close();
        } catch (IOException e) {
            throw new DataFileException("cannot finish COCO results file " + target + ": " + e, e);
        }
    }
}
