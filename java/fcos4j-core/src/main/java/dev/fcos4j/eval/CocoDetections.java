package dev.fcos4j.eval;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.fcos4j.Detection;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Detections in COCO results form ({@code [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]}),
 * held in flat arrays in record order. As the reference results loader does, each record's area is
 * {@code w * h}, its id is its index + 1 and it is never a crowd; any other field (segmentation, id, area) is
 * ignored. Every record is validated when added: finite numbers, non-negative width and height, finite score.
 * Immutable once built.
 */
public final class CocoDetections {
    private final String source;
    private final int size;
    private final long[] imageId;
    private final long[] categoryId;
    private final double[] box; // x, y, w, h per record
    private final double[] score;

    private CocoDetections(Builder b) {
        this.source = b.source;
        this.size = b.n;
        this.imageId = Arrays.copyOf(b.imageId, b.n);
        this.categoryId = Arrays.copyOf(b.categoryId, b.n);
        this.box = Arrays.copyOf(b.box, 4 * b.n);
        this.score = Arrays.copyOf(b.score, b.n);
    }

    /** Reads a COCO results JSON file (a top-level array) with a streaming parser. */
    public static CocoDetections load(Path file) {
        Objects.requireNonNull(file, "file");
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new CocoFormatException(file + ": results file not found", e);
        } catch (IOException e) {
            throw new CocoFormatException(file + ": cannot read results file: " + e.getMessage(), e);
        }
    }

    /**
     * Reads COCO results JSON from a stream (not closed).
     *
     * @param sourceName names the data in error messages, e.g. its file name
     */
    public static CocoDetections parse(InputStream in, String sourceName) {
        Objects.requireNonNull(in, "in");
        Builder b = builder(sourceName);
        double[] bb = new double[4];
        try (JsonParser p = CocoJson.FACTORY.createParser(in)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new CocoFormatException(sourceName + ": COCO results must be a JSON array of objects, got " + CocoJson.describe(p));
            }
            int index = 0;
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                String where = sourceName + ": record [" + index + "]";
                if (t != JsonToken.START_OBJECT) {
                    throw new CocoFormatException(where + " must be an object, got " + CocoJson.describe(p));
                }
                Long img = null, cat = null;
                boolean hasBox = false, hasScore = false;
                double s = 0;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String f = p.currentName();
                    p.nextToken();
                    switch (f) {
                        case "image_id" -> img = CocoJson.id(p, where, "image_id");
                        case "category_id" -> cat = CocoJson.id(p, where, "category_id");
                        case "bbox" -> {
                            CocoJson.bbox(p, where, bb);
                            hasBox = true;
                        }
                        case "score" -> {
                            s = CocoJson.number(p, where, "score");
                            hasScore = true;
                        }
                        default -> p.skipChildren();
                    }
                }
                String missing = img == null ? "image_id" : cat == null ? "category_id" : !hasBox ? "bbox"
                        : !hasScore ? "score" : null;
                if (missing != null) {
                    throw new CocoFormatException(where + ": field '" + missing + "' is missing (bbox results need image_id, category_id, bbox, score)");
                }
                b.add(img, cat, bb[0], bb[1], bb[2], bb[3], s);
                index++;
            }
            if (p.nextToken() != null) {
                throw new CocoFormatException(sourceName + ": malformed JSON: trailing content after the top-level array");
            }
        } catch (JsonProcessingException e) {
            throw new CocoFormatException(sourceName + ": malformed JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CocoFormatException(sourceName + ": cannot read results: " + e.getMessage(), e);
        }
        return b.build();
    }

    /** Wraps detections made in code; their record index in messages is their list index. */
    public static CocoDetections of(String sourceName, List<CocoDetection> detections) {
        Builder b = builder(sourceName);
        for (CocoDetection d : detections) {
            b.add(d);
        }
        return b.build();
    }

    /** A builder for detections made in code (e.g. by running a model over a data set). */
    public static Builder builder(String sourceName) {
        return new Builder(Objects.requireNonNull(sourceName, "sourceName"));
    }

    /** The name given at load (usually the file path), used in error messages. */
    public String source() {
        return source;
    }

    /** The number of records. */
    public int size() {
        return size;
    }

    /** Record {@code i} (0-based, file order). */
    public CocoDetection get(int i) {
        Objects.checkIndex(i, size);
        return new CocoDetection(imageId[i], categoryId[i], box[4 * i], box[4 * i + 1], box[4 * i + 2], box[4 * i + 3], score[i]);
    }

    /** Writes the records as a COCO results JSON array (doubles in their shortest round-trip form). */
    public void writeJson(OutputStream out) {
        try (JsonGenerator g = CocoJson.FACTORY.createGenerator(out)) {
            g.writeStartArray();
            for (int i = 0; i < size; i++) {
                g.writeStartObject();
                g.writeNumberField("image_id", imageId[i]);
                g.writeNumberField("category_id", categoryId[i]);
                g.writeArrayFieldStart("bbox");
                for (int c = 0; c < 4; c++) {
                    g.writeNumber(box[4 * i + c]);
                }
                g.writeEndArray();
                g.writeNumberField("score", score[i]);
                g.writeEndObject();
            }
            g.writeEndArray();
        } catch (IOException e) {
            throw new CocoFormatException(source + ": cannot write results JSON: " + e.getMessage(), e);
        }
    }

    /** Writes the records to {@code file} as a COCO results JSON array. */
    public void writeJson(Path file) {
        try (OutputStream out = Files.newOutputStream(file)) {
            writeJson(out);
        } catch (IOException e) {
            throw new CocoFormatException(file + ": cannot write results JSON: " + e.getMessage(), e);
        }
    }

    // Package-private accessors for the evaluator.
    long imageId(int i) {
        return imageId[i];
    }

    long categoryId(int i) {
        return categoryId[i];
    }

    double[] boxes() {
        return box;
    }

    double score(int i) {
        return score[i];
    }

    /** Accumulates validated records; {@link #build()} freezes them. */
    public static final class Builder {
        private final String source;
        private long[] imageId = new long[256];
        private long[] categoryId = new long[256];
        private double[] box = new double[4 * 256];
        private double[] score = new double[256];
        private int n;

        private Builder(String source) {
            this.source = source;
        }

        /** Adds one detection record. */
        public Builder add(CocoDetection d) {
            return add(d.imageId(), d.categoryId(), d.x(), d.y(), d.width(), d.height(), d.score());
        }

        /**
         * Adds a fcos4j {@link Detection} (corner box, original-image pixels) for an image. The COCO box is
         * {@code [x1, y1, x2 - x1, y2 - y1]} with the float corners widened to double before subtracting (as a
         * Python exporter does when it converts float32 boxes with {@code tolist()}).
         */
        public Builder add(long imageId, long categoryId, Detection d) {
            double x1 = d.x1(), y1 = d.y1();
            return add(imageId, categoryId, x1, y1, (double) d.x2() - x1, (double) d.y2() - y1, d.score());
        }

        /**
         * Adds one detection record.
         *
         * @throws CocoFormatException naming this record for a non-finite value or a negative width or height
         */
        public Builder add(long imageId, long categoryId, double x, double y, double width, double height,
                           double score) {
            String where = source + ": record [" + n + "] (image_id " + imageId + ")";
            CocoJson.checkBox(where, x, y, width, height);
            if (!Double.isFinite(score)) {
                throw new CocoFormatException(where + ": score must be finite, got " + score);
            }
            if (n == this.imageId.length) {
                int c = 2 * n;
                this.imageId = Arrays.copyOf(this.imageId, c);
                this.categoryId = Arrays.copyOf(this.categoryId, c);
                this.box = Arrays.copyOf(this.box, 4 * c);
                this.score = Arrays.copyOf(this.score, c);
            }
            this.imageId[n] = imageId;
            this.categoryId[n] = categoryId;
            this.box[4 * n] = x;
            this.box[4 * n + 1] = y;
            this.box[4 * n + 2] = width;
            this.box[4 * n + 3] = height;
            this.score[n] = score;
            n++;
            return this;
        }

        /** Freezes the records added so far. */
        public CocoDetections build() {
            return new CocoDetections(this);
        }
    }
}
