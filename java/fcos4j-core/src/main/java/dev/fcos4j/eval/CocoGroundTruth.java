package dev.fcos4j.eval;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * COCO ground truth for bbox evaluation: the images, the categories and the box annotations of an instances file
 * ({@code {"images": [...], "annotations": [...], "categories": [...]}}), held in flat arrays.
 *
 * <p>As in the reference COCO API, the evaluated images and categories are those listed in {@code images} and
 * {@code categories} (sorted by id, duplicates merged); an annotation whose image or category is not listed is
 * not evaluated ({@link #droppedAnnotations()} counts them). The ignore flag is {@code iscrowd} (an {@code ignore}
 * field is disregarded, as the reference overwrites it). Size ranges use the annotation's {@code area} field, not
 * the box area. Segmentations are skipped unread. Immutable and thread-safe.
 */
public final class CocoGroundTruth {
    private final String source;
    private final long[] imageIds;
    private final CocoImage[] images; // parallel to imageIds
    private final long[] categoryIds;
    private final String[] categoryNames;
    // Annotations that refer to a listed image and category, in file order.
    private final int size;
    private final long[] annId;
    private final int[] annImage;
    private final int[] annCategory;
    private final double[] annBox; // x, y, w, h per annotation
    private final double[] annArea;
    private final boolean[] annCrowd;
    private final int dropped;

    private CocoGroundTruth(Builder b) {
        this.source = b.source;
        this.imageIds = Arrays.stream(Arrays.copyOf(b.images, b.nImages)).sorted().distinct().toArray();
        // A later entry with the same id wins, as in the reference's id-keyed dictionary.
        this.images = new CocoImage[imageIds.length];
        for (int i = 0; i < b.nImages; i++) {
            images[Arrays.binarySearch(imageIds, b.images[i])] = b.imageEntries.get(i);
        }
        // Later category entries with the same id win, as in the reference's id-keyed dictionary.
        Map<Long, String> names = new HashMap<>();
        for (int i = 0; i < b.nCategories; i++) {
            names.put(b.categories[i], b.categoryNameList.get(i));
        }
        this.categoryIds = names.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        this.categoryNames = new String[categoryIds.length];
        for (int k = 0; k < categoryIds.length; k++) {
            categoryNames[k] = names.get(categoryIds[k]);
        }
        checkDuplicateIds(b);
        int n = 0;
        long[] id = new long[b.nAnns];
        int[] img = new int[b.nAnns];
        int[] cat = new int[b.nAnns];
        double[] box = new double[4 * b.nAnns];
        double[] area = new double[b.nAnns];
        boolean[] crowd = new boolean[b.nAnns];
        for (int j = 0; j < b.nAnns; j++) {
            int i = Arrays.binarySearch(imageIds, b.annImage[j]);
            int k = Arrays.binarySearch(categoryIds, b.annCategory[j]);
            if (i < 0 || k < 0) {
                continue;
            }
            id[n] = b.annId[j];
            img[n] = i;
            cat[n] = k;
            System.arraycopy(b.annBox, 4 * j, box, 4 * n, 4);
            area[n] = b.annArea[j];
            crowd[n] = b.annCrowd[j];
            n++;
        }
        this.size = n;
        this.annId = Arrays.copyOf(id, n);
        this.annImage = Arrays.copyOf(img, n);
        this.annCategory = Arrays.copyOf(cat, n);
        this.annBox = Arrays.copyOf(box, 4 * n);
        this.annArea = Arrays.copyOf(area, n);
        this.annCrowd = Arrays.copyOf(crowd, n);
        this.dropped = b.nAnns - n;
    }

    // The reference indexes annotations by id: a duplicate id would silently evaluate one annotation twice.
    private static void checkDuplicateIds(Builder b) {
        long[] keys = new long[b.nAnns];
        for (int j = 0; j < b.nAnns; j++) {
            keys[j] = b.annId[j];
        }
        Arrays.sort(keys);
        for (int j = 1; j < keys.length; j++) {
            if (keys[j] == keys[j - 1]) {
                long dup = keys[j];
                int first = -1;
                for (int q = 0; q < b.nAnns; q++) {
                    if (b.annId[q] == dup) {
                        if (first < 0) {
                            first = q;
                        } else {
                            throw new CocoFormatException(b.source + ": annotations[" + q + "] has id " + dup
                                    + ", already used by annotations[" + first + "]; annotation ids must be unique");
                        }
                    }
                }
            }
        }
    }

    /** Reads an instances JSON file with a streaming parser. */
    public static CocoGroundTruth load(Path file) {
        Objects.requireNonNull(file, "file");
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new CocoFormatException(file + ": ground-truth file not found", e);
        } catch (IOException e) {
            throw new CocoFormatException(file + ": cannot read ground-truth file: " + e.getMessage(), e);
        }
    }

    /**
     * Reads instances JSON from a stream (not closed).
     *
     * @param sourceName names the data in error messages, e.g. its file name
     */
    public static CocoGroundTruth parse(InputStream in, String sourceName) {
        Objects.requireNonNull(in, "in");
        Builder b = builder(sourceName);
        try (JsonParser p = CocoJson.FACTORY.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CocoFormatException(sourceName + ": a COCO instances file must be a JSON object, got " + CocoJson.describe(p));
            }
            boolean sawImages = false, sawAnns = false, sawCats = false;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                switch (name) {
                    case "images" -> {
                        readImages(p, b);
                        sawImages = true;
                    }
                    case "annotations" -> {
                        readAnnotations(p, b);
                        sawAnns = true;
                    }
                    case "categories" -> {
                        readCategories(p, b);
                        sawCats = true;
                    }
                    default -> p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new CocoFormatException(sourceName + ": malformed JSON: unexpected " + CocoJson.describe(p));
            }
            if (p.nextToken() != null) {
                throw new CocoFormatException(sourceName + ": malformed JSON: trailing content after the top-level object");
            }
            String missing = !sawImages ? "images" : !sawAnns ? "annotations" : !sawCats ? "categories" : null;
            if (missing != null) {
                throw new CocoFormatException(sourceName + ": the ground truth has no '" + missing + "' array");
            }
        } catch (JsonProcessingException e) {
            throw new CocoFormatException(sourceName + ": malformed JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CocoFormatException(sourceName + ": cannot read ground truth: " + e.getMessage(), e);
        }
        return b.build();
    }

    private static void expectArray(JsonParser p, String source, String name) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new CocoFormatException(source + ": '" + name + "' must be an array, got " + CocoJson.describe(p));
        }
    }

    private static String recordAt(JsonParser p, String source, String array, int index) throws IOException {
        String where = source + ": " + array + "[" + index + "]";
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new CocoFormatException(where + " must be an object, got " + CocoJson.describe(p));
        }
        return where;
    }

    private static void readImages(JsonParser p, Builder b) throws IOException {
        expectArray(p, b.source, "images");
        int index = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            String where = recordAt(p, b.source, "images", index);
            boolean hasId = false;
            long id = 0;
            String fileName = "";
            int width = 0, height = 0;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                JsonToken v = p.nextToken();
                switch (f) {
                    case "id" -> {
                        id = CocoJson.id(p, where, "id");
                        hasId = true;
                    }
                    // Informational fields: kept when well-formed, never a reason to reject the file.
                    case "file_name" -> fileName = v == JsonToken.VALUE_STRING ? p.getText() : "";
                    case "width" -> width = v == JsonToken.VALUE_NUMBER_INT ? p.getValueAsInt() : 0;
                    case "height" -> height = v == JsonToken.VALUE_NUMBER_INT ? p.getValueAsInt() : 0;
                    default -> p.skipChildren();
                }
            }
            if (!hasId) {
                throw new CocoFormatException(where + ": field 'id' is missing");
            }
            b.image(id, fileName, width, height);
            index++;
        }
    }

    private static void readCategories(JsonParser p, Builder b) throws IOException {
        expectArray(p, b.source, "categories");
        int index = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            String where = recordAt(p, b.source, "categories", index);
            Long id = null;
            String name = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                JsonToken v = p.nextToken();
                if (f.equals("id")) {
                    id = CocoJson.id(p, where, "id");
                } else if (f.equals("name")) {
                    if (v != JsonToken.VALUE_STRING) {
                        throw new CocoFormatException(where + ": field 'name' must be a string, got " + CocoJson.describe(p));
                    }
                    name = p.getText();
                } else {
                    p.skipChildren();
                }
            }
            if (id == null) {
                throw new CocoFormatException(where + ": field 'id' is missing");
            }
            if (name == null) {
                throw new CocoFormatException(where + " (id " + id + "): field 'name' is missing");
            }
            b.category(id, name);
            index++;
        }
    }

    private static void readAnnotations(JsonParser p, Builder b) throws IOException {
        expectArray(p, b.source, "annotations");
        double[] box = new double[4];
        int index = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            String where = recordAt(p, b.source, "annotations", index);
            Long id = null, imageId = null, categoryId = null;
            boolean hasBox = false, hasArea = false, hasCrowd = false, crowd = false;
            double area = 0;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                p.nextToken();
                switch (f) {
                    case "id" -> id = CocoJson.id(p, where, "id");
                    case "image_id" -> imageId = CocoJson.id(p, where, "image_id");
                    case "category_id" -> categoryId = CocoJson.id(p, where, "category_id");
                    case "bbox" -> {
                        CocoJson.bbox(p, where, box);
                        hasBox = true;
                    }
                    case "area" -> {
                        area = CocoJson.number(p, where, "area");
                        hasArea = true;
                    }
                    case "iscrowd" -> {
                        crowd = CocoJson.flag(p, where, "iscrowd");
                        hasCrowd = true;
                    }
                    default -> p.skipChildren();
                }
            }
            String missing = id == null ? "id" : imageId == null ? "image_id" : categoryId == null ? "category_id"
                    : !hasBox ? "bbox" : !hasArea ? "area" : !hasCrowd ? "iscrowd" : null;
            if (missing != null) {
                throw new CocoFormatException(where + (id != null ? " (id " + id + ")" : "") + ": field '" + missing + "' is missing");
            }
            b.annotation(id, imageId, categoryId, box[0], box[1], box[2], box[3], area, crowd);
            index++;
        }
    }

    /**
     * A builder for ground truth assembled in code (tests, converters).
     *
     * @param sourceName names the data in error messages
     */
    public static Builder builder(String sourceName) {
        return new Builder(Objects.requireNonNull(sourceName, "sourceName"));
    }

    /** The name given at load (usually the file path), used in error messages. */
    public String source() {
        return source;
    }

    /** The evaluated image ids, ascending, unique. */
    public long[] imageIds() {
        return imageIds.clone();
    }

    /** The image entries, ascending by id (one per id). */
    public List<CocoImage> images() {
        return List.of(images);
    }

    /** The number of evaluated images. */
    public int imageCount() {
        return imageIds.length;
    }

    /** Whether {@code imageId} is one of the evaluated images. */
    public boolean hasImage(long imageId) {
        return Arrays.binarySearch(imageIds, imageId) >= 0;
    }

    /** The categories, ascending by id (the reference's evaluation order). */
    public List<CocoCategory> categories() {
        List<CocoCategory> out = new ArrayList<>(categoryIds.length);
        for (int k = 0; k < categoryIds.length; k++) {
            out.add(new CocoCategory(categoryIds[k], categoryNames[k]));
        }
        return Collections.unmodifiableList(out);
    }

    /** The number of annotations that will be evaluated (those on a listed image and category). */
    public int annotationCount() {
        return size;
    }

    /** Annotations left out because their image or category is not listed (the reference skips them too). */
    public int droppedAnnotations() {
        return dropped;
    }

    /**
     * The same ground truth restricted to some of its images (the reference's {@code params.imgIds}): what an
     * evaluation of a subset of the images must be scored against, so unvisited images do not count as misses.
     *
     * @param keepImageIds ids of images to keep; ids not in this ground truth are ignored
     */
    public CocoGroundTruth restrictToImages(long[] keepImageIds) {
        long[] keep = keepImageIds.clone();
        Arrays.sort(keep);
        Builder b = builder(source);
        for (int i = 0; i < imageIds.length; i++) {
            if (Arrays.binarySearch(keep, imageIds[i]) >= 0) {
                CocoImage im = images[i];
                b.image(im.id(), im.fileName(), im.width(), im.height());
            }
        }
        for (int k = 0; k < categoryIds.length; k++) {
            b.category(categoryIds[k], categoryNames[k]);
        }
        for (int j = 0; j < size; j++) {
            if (Arrays.binarySearch(keep, imageIds[annImage[j]]) >= 0) {
                b.annotation(annId[j], imageIds[annImage[j]], categoryIds[annCategory[j]], annBox[4 * j],
                        annBox[4 * j + 1], annBox[4 * j + 2], annBox[4 * j + 3], annArea[j], annCrowd[j]);
            }
        }
        return b.build();
    }

    /**
     * The boxes annotated on one image, {@code [x, y, width, height]} each, in file order (crowd regions
     * included); empty for an image without annotations or not in this ground truth.
     */
    public List<double[]> boxesOf(long imageId) {
        int i = Arrays.binarySearch(imageIds, imageId);
        List<double[]> out = new ArrayList<>();
        if (i < 0) {
            return out;
        }
        for (int j = 0; j < size; j++) {
            if (annImage[j] == i) {
                out.add(Arrays.copyOfRange(annBox, 4 * j, 4 * j + 4));
            }
        }
        return out;
    }

    // Package-private accessors for the evaluator's hot loops (no copies).
    long[] imageIdArray() {
        return imageIds;
    }

    long[] categoryIdArray() {
        return categoryIds;
    }

    String categoryName(int k) {
        return categoryNames[k];
    }

    long annId(int j) {
        return annId[j];
    }

    int annImage(int j) {
        return annImage[j];
    }

    int annCategory(int j) {
        return annCategory[j];
    }

    double[] annBoxes() {
        return annBox;
    }

    double annArea(int j) {
        return annArea[j];
    }

    boolean annCrowd(int j) {
        return annCrowd[j];
    }

    /** Accumulates images, categories and annotations; {@link #build()} resolves and validates them. */
    public static final class Builder {
        private final String source;
        private long[] images = new long[64];
        private final List<CocoImage> imageEntries = new ArrayList<>();
        private int nImages;
        private long[] categories = new long[16];
        private final List<String> categoryNameList = new ArrayList<>();
        private int nCategories;
        private long[] annId = new long[256];
        private long[] annImage = new long[256];
        private long[] annCategory = new long[256];
        private double[] annBox = new double[4 * 256];
        private double[] annArea = new double[256];
        private boolean[] annCrowd = new boolean[256];
        private int nAnns;

        private Builder(String source) {
            this.source = source;
        }

        /** Adds an image id (duplicates are merged). */
        public Builder image(long id) {
            return image(id, "", 0, 0);
        }

        /** Adds an image entry; a later entry with the same id replaces the file name and size. */
        public Builder image(long id, String fileName, int width, int height) {
            CocoImage entry = new CocoImage(id, fileName, width, height);
            if (nImages == images.length) {
                images = Arrays.copyOf(images, 2 * nImages);
            }
            images[nImages++] = id;
            imageEntries.add(entry);
            return this;
        }

        /** Adds a category (a later entry with the same id replaces the name). */
        public Builder category(long id, String name) {
            Objects.requireNonNull(name, "name");
            if (nCategories == categories.length) {
                categories = Arrays.copyOf(categories, 2 * nCategories);
            }
            categories[nCategories++] = id;
            categoryNameList.add(name);
            return this;
        }

        /**
         * Adds a box annotation; its record index in messages is the number of annotations added before it.
         *
         * @param area  the annotation's area (COCO: the mask area), used for the small/medium/large ranges
         * @param crowd {@code iscrowd}: never matched away, IoU against it uses the detection's area
         * @throws CocoFormatException for a non-finite or negative-size box or a negative or non-finite area
         */
        public Builder annotation(long id, long imageId, long categoryId, double x, double y, double width,
                                  double height, double area, boolean crowd) {
            String where = source + ": annotations[" + nAnns + "] (id " + id + ")";
            CocoJson.checkBox(where, x, y, width, height);
            if (!Double.isFinite(area) || area < 0) {
                throw new CocoFormatException(where + ": area must be a finite number >= 0, got " + area);
            }
            if (nAnns == annId.length) {
                int c = 2 * nAnns;
                annId = Arrays.copyOf(annId, c);
                annImage = Arrays.copyOf(annImage, c);
                annCategory = Arrays.copyOf(annCategory, c);
                annBox = Arrays.copyOf(annBox, 4 * c);
                annArea = Arrays.copyOf(annArea, c);
                annCrowd = Arrays.copyOf(annCrowd, c);
            }
            annId[nAnns] = id;
            annImage[nAnns] = imageId;
            annCategory[nAnns] = categoryId;
            annBox[4 * nAnns] = x;
            annBox[4 * nAnns + 1] = y;
            annBox[4 * nAnns + 2] = width;
            annBox[4 * nAnns + 3] = height;
            annArea[nAnns] = area;
            annCrowd[nAnns] = crowd;
            nAnns++;
            return this;
        }

        /** Resolves image and category references and checks that annotation ids are unique. */
        public CocoGroundTruth build() {
            return new CocoGroundTruth(this);
        }
    }
}
