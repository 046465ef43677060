package dev.fcos4j.cli;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.Detection;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.NativeLibraryException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.io.DataFileException;
import dev.fcos4j.io.DetectionsJson;
import dev.fcos4j.io.ImageDetections;
import dev.fcos4j.io.NpyArray;
import dev.fcos4j.io.PostprocessFixture;
import dev.fcos4j.io.Npz;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.PostProcessor;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import dev.fcos4j.nativ.Flavour;
import dev.fcos4j.nativ.HeadShape;
import dev.fcos4j.nativ.NativePostProcessor;
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

/** {@code fcos4j postprocess}: the post-processing alone, on head tensors saved as .npz or in a fixture. */
@Command(name = "postprocess", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs post-processing on saved head outputs and prints (or writes) the detections JSON.",
                "HEADS.npz holds float arrays named as the model contract: cls_0..cls_L-1 [N,C,H,W], "
                        + "reg_0.. [N,4,H,W] (distances in input pixels), ctr_0.. [N,1,H,W].",
                "HEADS.json is a post-processing fixture (engines/POSTPROCESS.md): it brings its own convention, "
                        + "thresholds, strides and image sizes (options still override the thresholds); --check "
                        + "compares the result with its expected detections."})
final class PostprocessCommand implements Callable<Integer> {
    /** Post-processing implementations; only the Java reference exists in this build. */
    enum BackendChoice { REFERENCE, EMULATED, CUDA }

    @Option(names = "--heads", required = true, paramLabel = "HEADS.npz|FIXTURE.json",
            description = "Head tensors (.npz), or a post-processing fixture (.json).")
    Path heads;

    @Option(names = "--convention", paramLabel = "NAME", converter = DetectCommand.ConventionConverter.class,
            description = "mmdet, fcos or torchvision (required for .npz; a fixture names its own).")
    Convention convention;

    @Option(names = "--image-size", paramLabel = "H,W", converter = SizeConverter.class,
            description = "Resized size (before padding) of each image, once for all or once per image "
                    + "(default: the padded input size, level 0 size x its stride).")
    List<int[]> imageSizes = new ArrayList<>();

    @Option(names = "--original-size", paramLabel = "H,W", converter = SizeConverter.class,
            description = "Original size of each image, once for all or once per image (default: the image size).")
    List<int[]> originalSizes = new ArrayList<>();

    @Option(names = "--strides", paramLabel = "S,S,...", split = ",",
            description = "Stride of each level of an .npz (default: 8,16,32,64,128).")
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
            description = "Post-processing implementation: reference (Java, default); cuda (the native kernels on an NVIDIA GPU); "
                    + "emulated (the CUDA kernels executed on the CPU, for verification; slow).")
    BackendChoice backend;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write the detections JSON here instead of stdout.")
    Path out;

    @Option(names = "--check", description = "With a fixture: compare with its expected detections; exit 1 on a mismatch.")
    boolean check;

    @Option(names = "--tolerance", paramLabel = "T", defaultValue = "1e-5",
            description = "--check tolerance for boxes and scores, relative to max(1, |expected|) (default: ${DEFAULT-VALUE}).")
    double tolerance;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        boolean fixtureInput = heads.getFileName() != null
                && heads.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
        PostprocessFixture fixture = null;
        PostProcessConfig config;
        if (fixtureInput) {
            if (strides != null || !imageSizes.isEmpty() || !originalSizes.isEmpty()) {
                throw new ConfigurationException("--strides, --image-size and --original-size come from the fixture "
                        + heads + "; leave them out");
            }
            fixture = PostprocessFixture.read(heads);
            config = fixture.config();
            if (convention != null && convention != config.convention()) {
                config = PostProcessConfig.defaults(convention);
            }
        } else {
            if (convention == null) {
                throw new ConfigurationException("--convention is required with an .npz heads file (mmdet, fcos, torchvision)");
            }
            if (check) {
                throw new ConfigurationException("--check needs a fixture (.json) with expected detections");
            }
            config = PostProcessConfig.defaults(convention);
        }
        if (check && (fixture.expected() == null)) {
            throw new ConfigurationException("--check: fixture " + heads + " has no \"expected\" detections");
        }
        if (!(tolerance >= 0)) {
            throw new ConfigurationException("--tolerance must be a non-negative number, got " + tolerance);
        }
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
        HeadTensors headTensors;
        List<ImageMeta> metas;
        if (fixture != null) {
            headTensors = fixture.heads();
            metas = fixture.images();
        } else {
            List<Integer> levelStrides = strides == null ? List.of(8, 16, 32, 64, 128) : strides;
            for (int s : levelStrides) {
                if (s <= 0) {
                    throw new ConfigurationException("--strides must be positive, got " + levelStrides);
                }
            }
            LoadedHeads loaded = loadHeads(heads, levelStrides);
            headTensors = loaded.heads;
            metas = metas(loaded);
        }
        List<String> names = labels == null ? List.of() : readLabels(labels);
        if (!names.isEmpty() && names.size() != headTensors.numClasses()) {
            throw new ConfigurationException("--labels " + labels + " has " + names.size() + " names but the heads have "
                    + headTensors.numClasses() + " classes");
        }
        List<List<Detection>> detections;
        try (PostProcessor post = postProcessor(config, names, headTensors)) {
            detections = post.process(headTensors, metas);
        }
        Map<String, String> info = new LinkedHashMap<>();
        info.put("heads", heads.toString());
        info.put("backend", backend.name().toLowerCase(Locale.ROOT));
        info.put("convention", config.convention().id());
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
        if (check) {
            if (out != null) {
                DetectionsJson.write(out, info, images);
            }
            List<String> mismatches = compare(detections, fixture.expected(), tolerance);
            if (!mismatches.isEmpty()) {
                PrintWriter stderr = spec.commandLine().getErr();
                for (String m : mismatches) {
                    stderr.println("fcos4j: fixture " + fixture.name() + ": " + m);
                }
                stderr.flush();
                return Main.EXIT_RUNTIME;
            }
            stdout.println("fixture " + fixture.name() + ": OK, " + total + " detection" + (total == 1 ? "" : "s")
                    + " in " + images.size() + " image" + (images.size() == 1 ? "" : "s") + " match ("
                    + config.convention().id() + ", tolerance " + tolerance + ")");
            stdout.flush();
            return 0;
        }
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

    /** Differences between detections and expected ones (at most 10 lines; empty when they agree). */
    static List<String> compare(List<List<Detection>> got, List<List<Detection>> expected, double tolerance) {
        List<String> problems = new ArrayList<>();
        if (got.size() != expected.size()) {
            problems.add(got.size() + " images, expected " + expected.size());
            return problems;
        }
        for (int i = 0; i < got.size() && problems.size() < 10; i++) {
            List<Detection> g = got.get(i);
            List<Detection> e = expected.get(i);
            if (g.size() != e.size()) {
                problems.add("image " + i + ": " + g.size() + " detections, expected " + e.size());
            }
            for (int k = 0; k < Math.min(g.size(), e.size()) && problems.size() < 10; k++) {
                Detection a = g.get(k);
                Detection b = e.get(k);
                boolean same = a.classId() == b.classId() && close(a.x1(), b.x1(), tolerance) && close(a.y1(), b.y1(), tolerance)
                        && close(a.x2(), b.x2(), tolerance) && close(a.y2(), b.y2(), tolerance)
                        && close(a.score(), b.score(), tolerance);
                if (!same) {
                    problems.add(String.format(Locale.ROOT,
                            "image %d detection %d: class %d box [%s, %s, %s, %s] score %s; expected class %d box [%s, %s, %s, %s] score %s",
                            i, k, a.classId(), a.x1(), a.y1(), a.x2(), a.y2(), a.score(),
                            b.classId(), b.x1(), b.y1(), b.x2(), b.y2(), b.score()));
                }
            }
        }
        return problems;
    }

    private static boolean close(float value, float expected, double tolerance) {
        return Math.abs((double) value - expected) <= tolerance * Math.max(1.0, Math.abs((double) expected));
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
    private PostProcessor postProcessor(PostProcessConfig config, List<String> names, HeadTensors heads) {
        if (backend == BackendChoice.REFERENCE) {
            return new ReferencePostProcessor(config, names);
        }
        Flavour flavour = backend == BackendChoice.CUDA ? Flavour.CUDA : Flavour.EMULATED;
        try {
            return NativePostProcessor.create(flavour, config, names, HeadShape.of(heads));
        } catch (NativeLibraryException e) {
            throw new NativeLibraryException("--backend " + flavour.id() + ": " + e.getMessage(), e);
        }
    }

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
