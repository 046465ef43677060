package dev.fcos4j.cli;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.Detection;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.io.DataFileException;
import dev.fcos4j.io.DetectionsJson;
import dev.fcos4j.io.ImageDetections;
import dev.fcos4j.io.NpyArray;
import dev.fcos4j.io.Npz;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.PostProcessor;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import dev.fcos4j.preprocess.ImageMeta;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code fcos4j postprocess}: the post-processing alone, on head tensors saved as .npz. */
@Command(name = "postprocess", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs post-processing on saved head outputs and prints (or writes) the detections JSON.",
                "HEADS.npz holds float arrays named as the model contract: cls_0..cls_L-1 [N,C,H,W], "
                        + "reg_0.. [N,4,H,W] (distances in input pixels), ctr_0.. [N,1,H,W]."})
final class PostprocessCommand implements Callable<Integer> {
    /** Post-processing implementations; only the Java reference exists in this build. */
    enum BackendChoice { REFERENCE, EMULATED, CUDA }

    @Option(names = "--heads", required = true, paramLabel = "HEADS.npz", description = "Head tensors (.npz).")
    Path heads;

    @Option(names = "--convention", required = true, paramLabel = "NAME", converter = DetectCommand.ConventionConverter.class,
            description = "mmdet, fcos or torchvision.")
    Convention convention;

    @Option(names = "--image-size", paramLabel = "H,W", converter = SizeConverter.class,
            description = "Resized size (before padding) of each image, once for all or once per image "
                    + "(default: the padded input size, level 0 size x its stride).")
    List<int[]> imageSizes = new ArrayList<>();

    @Option(names = "--original-size", paramLabel = "H,W", converter = SizeConverter.class,
            description = "Original size of each image, once for all or once per image (default: the image size).")
    List<int[]> originalSizes = new ArrayList<>();

    @Option(names = "--strides", paramLabel = "S,S,...", split = ",", defaultValue = "8,16,32,64,128",
            description = "Stride of each level (default: ${DEFAULT-VALUE}).")
    List<Integer> strides;

    @Option(names = "--score-threshold", paramLabel = "S", description = "Default: the convention's.")
    Float scoreThreshold;

    @Option(names = "--iou-threshold", paramLabel = "IOU", description = "Default: the convention's.")
    Float iouThreshold;

    @Option(names = "--nms-pre", paramLabel = "K", description = "Default: the convention's (1000).")
    Integer nmsPre;

    @Option(names = "--max-detections", paramLabel = "N", description = "Default: the convention's (100).")
    Integer maxDetections;

    @Option(names = "--labels", paramLabel = "FILE",
            description = "Class names: a JSON array of strings, or one name per line (default: class_N).")
    Path labels;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "reference",
            description = "Post-processing implementation: reference (Java); emulated and cuda come with the native module.")
    BackendChoice backend;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write the detections JSON here instead of stdout.")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (backend != BackendChoice.REFERENCE) {
            throw new ConfigurationException("--backend " + backend.name().toLowerCase(Locale.ROOT)
                    + " is not available in this build: only 'reference' (the native module adds emulated and cuda)");
        }
        PostProcessConfig config = PostProcessConfig.defaults(convention);
        if (scoreThreshold != null) {
            config = config.withScoreThreshold(scoreThreshold);
        }
        if (iouThreshold != null) {
            config = config.withIouThreshold(iouThreshold);
        }
        if (nmsPre != null) {
            config = config.withNmsPre(nmsPre);
        }
        if (maxDetections != null) {
            config = config.withMaxDetections(maxDetections);
        }
        for (int s : strides) {
            if (s <= 0) {
                throw new ConfigurationException("--strides must be positive, got " + strides);
            }
        }
        LoadedHeads loaded = loadHeads(heads, strides);
        List<ImageMeta> metas = metas(loaded);
        List<String> names = labels == null ? List.of() : readLabels(labels);
        if (!names.isEmpty() && names.size() != loaded.heads.numClasses()) {
            throw new ConfigurationException("--labels " + labels + " has " + names.size() + " names but the heads have "
                    + loaded.heads.numClasses() + " classes");
        }
        List<List<Detection>> detections;
        try (PostProcessor post = new ReferencePostProcessor(config, names)) {
            detections = post.process(loaded.heads, metas);
        }
        Map<String, String> info = new LinkedHashMap<>();
        info.put("heads", heads.toString());
        info.put("backend", "reference");
        info.put("convention", convention.id());
        info.put("score_threshold", Float.toString(config.scoreThreshold()));
        info.put("iou_threshold", Float.toString(config.iouThreshold()));
        info.put("nms_pre", Integer.toString(config.nmsPre()));
        info.put("max_detections", Integer.toString(config.maxDetections()));
        List<ImageDetections> images = new ArrayList<>();
        int total = 0;
        for (int i = 0; i < detections.size(); i++) {
            ImageMeta m = metas.get(i);
            images.add(new ImageDetections("image #" + i, m.originalWidth(), m.originalHeight(), detections.get(i)));
            total += detections.get(i).size();
        }
        PrintWriter stdout = spec.commandLine().getOut();
        if (out == null) {
            stdout.print(DetectionsJson.toJson(info, images));
        } else {
            DetectionsJson.write(out, info, images);
            stdout.println("wrote " + total + " detection" + (total == 1 ? "" : "s") + " for " + images.size() + " image"
                    + (images.size() == 1 ? "" : "s") + " to " + out);
        }
        stdout.flush();
        return 0;
    }

    /** Head tensors read from an npz, with the shapes checked against each other. */
    record LoadedHeads(HeadTensors heads, List<LevelShape> levels) {
    }

    static LoadedHeads loadHeads(Path file, List<Integer> strides) {
        Map<String, NpyArray> arrays = Npz.read(file);
        int levelsInFile = 0;
        while (arrays.containsKey("cls_" + levelsInFile)) {
            levelsInFile++;
        }
        if (levelsInFile != strides.size()) {
            throw new ModelContractException("heads file " + file + " has " + levelsInFile + " levels (cls_0.."
                    + "cls_" + (levelsInFile - 1) + ") but " + strides.size() + " strides were given (" + strides
                    + "); arrays present: " + arrays.keySet());
        }
        List<String> problems = new ArrayList<>();
        int batch = -1;
        int classes = -1;
        List<LevelShape> levels = new ArrayList<>();
        List<FloatBuffer> cls = new ArrayList<>();
        List<FloatBuffer> reg = new ArrayList<>();
        List<FloatBuffer> ctr = new ArrayList<>();
        for (int l = 0; l < levelsInFile; l++) {
            NpyArray c = arrays.get("cls_" + l);
            NpyArray r = arrays.get("reg_" + l);
            NpyArray t = arrays.get("ctr_" + l);
            if (r == null || t == null) {
                problems.add("level " + l + " lacks " + (r == null ? "reg_" + l : "") + (r == null && t == null ? " and " : "")
                        + (t == null ? "ctr_" + l : ""));
                continue;
            }
            if (c.rank() != 4 || r.rank() != 4 || t.rank() != 4) {
                problems.add("level " + l + ": cls/reg/ctr must be rank 4 [N,C,H,W], got cls_" + l + " " + c.shapeString()
                        + ", reg_" + l + " " + r.shapeString() + ", ctr_" + l + " " + t.shapeString());
                continue;
            }
            if (batch < 0) {
                batch = c.dim(0);
                classes = c.dim(1);
            }
            if (c.dim(0) != batch || r.dim(0) != batch || t.dim(0) != batch) {
                problems.add("level " + l + ": batch sizes differ (cls_0 has " + batch + ")");
            }
            if (c.dim(1) != classes) {
                problems.add("cls_" + l + " has " + c.dim(1) + " classes, cls_0 has " + classes);
            }
            if (r.dim(1) != 4) {
                problems.add("reg_" + l + " has " + r.dim(1) + " channels, expected 4 (left, top, right, bottom)");
            }
            if (t.dim(1) != 1) {
                problems.add("ctr_" + l + " has " + t.dim(1) + " channels, expected 1");
            }
            int h = c.dim(2);
            int w = c.dim(3);
            if (r.dim(2) != h || r.dim(3) != w || t.dim(2) != h || t.dim(3) != w) {
                problems.add("level " + l + ": spatial sizes differ: cls_" + l + " " + c.shapeString() + ", reg_" + l + " "
                        + r.shapeString() + ", ctr_" + l + " " + t.shapeString());
            }
            if (h <= 0 || w <= 0 || batch <= 0 || classes <= 0) {
                problems.add("level " + l + " has an empty dimension: cls_" + l + " " + c.shapeString());
                continue;
            }
            levels.add(new LevelShape(strides.get(l), h, w));
            cls.add(FloatBuffer.wrap(c.data()));
            reg.add(FloatBuffer.wrap(r.data()));
            ctr.add(FloatBuffer.wrap(t.data()));
        }
        if (!problems.isEmpty()) {
            throw new ModelContractException("heads file " + file + " does not follow the contract: "
                    + String.join("; ", problems));
        }
        return new LoadedHeads(HeadTensors.of(batch, classes, levels, cls, reg, ctr), levels);
    }

    private List<ImageMeta> metas(LoadedHeads loaded) {
        int n = loaded.heads.batch();
        LevelShape l0 = loaded.levels.get(0);
        int[] padded = {l0.height() * l0.stride(), l0.width() * l0.stride()};
        List<ImageMeta> metas = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int[] resized = pick(imageSizes, i, n, "--image-size", padded);
            int[] original = pick(originalSizes, i, n, "--original-size", resized);
            if (resized[0] > padded[0] || resized[1] > padded[1]) {
                throw new ConfigurationException("--image-size " + resized[0] + "," + resized[1] + " of image #" + i
                        + " exceeds the input size the heads imply (" + padded[0] + "," + padded[1] + ")");
            }
            metas.add(new ImageMeta(original[0], original[1], resized[0], resized[1]));
        }
        return metas;
    }

    private static int[] pick(List<int[]> given, int i, int n, String option, int[] fallback) {
        if (given.isEmpty()) {
            return fallback;
        }
        if (given.size() == 1) {
            return given.get(0);
        }
        if (given.size() != n) {
            throw new ConfigurationException(option + " was given " + given.size() + " times for a batch of " + n
                    + " images: give it once (all images) or once per image");
        }
        return given.get(i);
    }

    static List<String> readLabels(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DataFileException("cannot read labels file " + file + ": " + e, e);
        }
        if (text.stripLeading().startsWith("[")) {
            try {
                JsonNode node = new ObjectMapper().readTree(text);
                List<String> names = new ArrayList<>();
                for (JsonNode n : node) {
                    if (!n.isTextual()) {
                        throw new DataFileException("labels file " + file + ": entry " + names.size() + " is not a string");
                    }
                    names.add(n.asText());
                }
                return names;
            } catch (IOException e) {
                throw new DataFileException("labels file " + file + " is not a valid JSON array: " + e.getMessage(), e);
            }
        }
        return text.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /** "H,W" with positive integers. */
    static final class SizeConverter implements CommandLine.ITypeConverter<int[]> {
        @Override
        public int[] convert(String value) {
            String[] parts = value.split(",");
            try {
                if (parts.length == 2) {
                    int[] hw = {Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim())};
                    if (hw[0] > 0 && hw[1] > 0) {
                        return hw;
                    }
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not a size H,W of two positive integers");
        }
    }
}
