package dev.fcos4j.cli;

import dev.fcos4j.Detection;
import dev.fcos4j.Detector;
import dev.fcos4j.DetectorStats;
import dev.fcos4j.Fcos4jException;
import dev.fcos4j.ImageDecodeException;
import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.io.AnnotatedImageWriter;
import dev.fcos4j.io.CocoResultsWriter;
import dev.fcos4j.io.DataFileException;
import dev.fcos4j.io.DetectionsJson;
import dev.fcos4j.io.ImageDetections;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.preprocess.Images;
import org.bytedeco.opencv.opencv_core.Mat;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code fcos4j detect}: runs a contract model on images and writes detections. */
@Command(name = "detect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Detects objects in images with a contract model (cpu: ONNX Runtime; trt-fp32, trt-fp16: TensorRT).",
                "With --out DIR: writes DIR/detections.json (per image), DIR/coco_results.json (COCO results format) "
                        + "and DIR/<image>.png (annotated), and prints a summary.",
                "Without --out: prints the per-image detections JSON on stdout."})
final class DetectCommand implements Callable<Integer> {
    static final Set<String> IMAGE_SUFFIXES = Set.of("jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff");

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL.onnx", description = "The contract model.")
    Path model;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Output directory (created if needed).")
    Path out;

    @Option(names = "--convention", paramLabel = "NAME", converter = ConventionConverter.class,
            description = "Post-processing convention: mmdet, fcos or torchvision (default: the model's).")
    Convention convention;

    @Option(names = "--score-threshold", paramLabel = "S", description = "Candidate score threshold (default: the model's).")
    Float scoreThreshold;

    @Option(names = "--iou-threshold", paramLabel = "IOU", description = "NMS IoU threshold (default: the model's).")
    Float iouThreshold;

    @Option(names = "--nms-pre", paramLabel = "K", description = "Candidates kept per level before NMS (default: the model's).")
    Integer nmsPre;

    @Option(names = "--max-detections", paramLabel = "N", description = "Detections kept per image (default: the model's).")
    Integer maxDetections;

    @Option(names = {"-b", "--batch"}, paramLabel = "N", defaultValue = "1",
            description = {"Images per network run (default: ${DEFAULT-VALUE}).",
                    "Images of different sizes are padded to a common size in a batch, which can change their "
                            + "scores slightly (GroupNorm sees the padding), as in mmdetection."})
    int batch;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "ONNX Runtime intra-op threads, 0 = all cores (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--postprocess-threads", paramLabel = "N", defaultValue = "1",
            description = {"Threads sharing a batch's post-processing, this one included (default: ${DEFAULT-VALUE}).",
                    "Helps with large --batch on a GPU backend; the results do not change."})
    int postprocessThreads;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu",
            description = {"Inference backend: " + InferenceBackend.NAMES + " (default: ${DEFAULT-VALUE}).",
                    "trt-*: TensorRT on an NVIDIA GPU; the engine is built once per model and cached "
                            + "(docs/TENSORRT-JAVA.md)."})
    String backend;

    @Option(names = "--backend-option", paramLabel = "KEY=VALUE",
            description = "A TensorRT backend option, repeatable: engine_cache=DIR, max_batch=N, max_height=PX, "
                    + "max_width=PX, device=I, contexts=N.")
    List<String> backendOptions;

    @Option(names = "--recursive", description = "Also look for images in subdirectories of the given directories.")
    boolean recursive;

    @Option(names = "--no-annotate", description = "With --out: do not write annotated images.")
    boolean noAnnotate;

    @Option(names = "--keep-going", description = "Skip images that cannot be read or decoded (each reported on "
            + "stderr) instead of stopping; the exit code is still 1 when any was skipped.")
    boolean keepGoing;

    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto",
            description = "Progress on stderr: auto (from ${COMPLETION-CANDIDATES}; auto = only for " + Progress.AUTO_MINIMUM
                    + " images or more), always, never.")
    Progress.Mode progress;

    @Parameters(arity = "1..*", paramLabel = "IMAGE|DIR",
            description = "Image files (JPEG, PNG, BMP, WebP, TIFF) and directories of them.")
    List<Path> inputs;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (batch < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--batch must be at least 1, got " + batch);
        }
        if (threads < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be 0 (all cores) or positive, got " + threads);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        if (!Files.isRegularFile(model)) {
            // A missing file is a runtime failure (exit 1), like a missing image, not a usage error.
            throw new DataFileException("model file " + model + (Files.exists(model) ? " is not a regular file" : " does not exist"));
        }
        InferenceBackend choice = InferenceBackend.parse(spec.commandLine(), "--backend", backend, backendOptions);
        List<Path> images = collectImages(inputs, recursive);

        if (postprocessThreads < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--postprocess-threads must be at least 1, got "
                    + postprocessThreads);
        }
        Detector.Builder builder = choice.applyTo(Detector.builder().modelPath(model).intraOpThreads(threads)
                .maxBatch(batch).postprocessThreads(postprocessThreads));
        if (convention != null) {
            builder.convention(convention);
        }
        if (scoreThreshold != null) {
            builder.scoreThreshold(scoreThreshold);
        }
        if (iouThreshold != null) {
            builder.iouThreshold(iouThreshold);
        }
        if (nmsPre != null) {
            builder.nmsPre(nmsPre);
        }
        if (maxDetections != null) {
            builder.maxDetections(maxDetections);
        }
        long loadStart = System.nanoTime();
        try (Detector detector = builder.build()) {
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            long start = System.nanoTime();
            ModelMetadata meta = detector.metadata();
            PostProcessConfig post = detector.postProcessConfig();
            Map<String, String> info = new LinkedHashMap<>();
            info.put("model", model.toString());
            info.put("model_name", meta.modelName());
            info.put("backend", choice.name());
            info.put("convention", post.convention().id());
            info.put("score_threshold", Float.toString(post.scoreThreshold()));
            info.put("iou_threshold", Float.toString(post.iouThreshold()));
            info.put("nms_pre", Integer.toString(post.nmsPre()));
            info.put("max_detections", Integer.toString(post.maxDetections()));

            Path detectionsFile = null;
            Path cocoFile = null;
            long[] ids = null;
            if (out != null) {
                createDirectories(out);
                detectionsFile = out.resolve("detections.json");
                cocoFile = out.resolve("coco_results.json");
                ids = imageIds(images, stderr);
            }
            AnnotatedImageWriter annotator = out != null && !noAnnotate ? new AnnotatedImageWriter() : null;
            Set<String> pngNames = new HashSet<>();
            int annotated = 0;
            int skipped = 0;
            Progress bar = new Progress(stderr, images.size(), progress, Progress.stderrIsTerminal(), "images");
            List<ImageDetections> results = new ArrayList<>(images.size());
            try (DetectionsJson.Writer json = out == null ? null : DetectionsJson.open(newOutput(detectionsFile), info,
                    detectionsFile.toString());
                 CocoResultsWriter coco = out == null ? null : CocoResultsWriter.open(cocoFile, meta.classNames(),
                         meta.numClasses() > 0 ? meta.numClasses() : 1 << 16)) {
                for (int first = 0; first < images.size(); first += batch) {
                    List<Path> chunk = images.subList(first, Math.min(images.size(), first + batch));
                    List<List<Detection>> dets = detect(detector, chunk, stderr);
                    for (int i = 0; i < chunk.size(); i++) {
                        Path image = chunk.get(i);
                        if (dets.get(i) == null) {
                            skipped++;
                            continue;
                        }
                        ImageDetections r;
                        // The decoded original gives the size and, when annotating, the canvas.
                        try (Mat original = Images.readBgr(image)) {
                            r = new ImageDetections(image.toString(), original.cols(), original.rows(), dets.get(i));
                            if (annotator != null) {
                                annotator.write(original, r.detections(), out.resolve(uniquePngName(image, pngNames)));
                                annotated++;
                            }
                        }
                        results.add(r);
                        if (json != null) {
                            json.write(r);
                            coco.write(ids[first + i], r.detections());
                        }
                    }
                    bar.update(Math.min(images.size(), first + batch));
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (out == null) {
                stdout.print(DetectionsJson.toJson(info, results));
                stdout.flush();
                stderr.println(summary(results, seconds, loadSeconds, meta, post));
                stderr.println(stages(detector.stats()));
                return finish(skipped, stderr);
            }
            stdout.println(summary(results, seconds, loadSeconds, meta, post));
            stdout.println(stages(detector.stats()));
            stdout.println("wrote " + detectionsFile + ", " + cocoFile
                    + (annotated > 0 ? ", " + annotated + " annotated image" + (annotated == 1 ? "" : "s") + " in " + out : ""));
            stdout.flush();
            return finish(skipped, stderr);
        }
    }

    /** Detects a chunk; with --keep-going, a chunk that fails to decode is retried image by image (null = skipped). */
    private List<List<Detection>> detect(Detector detector, List<Path> chunk, PrintWriter stderr) {
        if (!keepGoing) {
            return detector.detectBatch(chunk);
        }
        try {
            return detector.detectBatch(chunk);
        } catch (ImageDecodeException batchFailure) {
            List<List<Detection>> out = new ArrayList<>(chunk.size());
            for (Path image : chunk) {
                try {
                    out.add(detector.detect(image));
                } catch (ImageDecodeException e) {
                    stderr.println("fcos4j: skipped: " + e.getMessage());
                    out.add(null);
                }
            }
            return out;
        }
    }

    private static int finish(int skipped, PrintWriter stderr) {
        if (skipped > 0) {
            stderr.println("fcos4j: " + skipped + " image" + (skipped == 1 ? " was" : "s were") + " skipped (see above)");
        }
        stderr.flush();
        return skipped > 0 ? Main.EXIT_RUNTIME : 0;
    }

    private static java.io.OutputStream newOutput(Path file) {
        try {
            return Files.newOutputStream(file);
        } catch (IOException e) {
            throw new DataFileException("cannot create " + file + ": " + e, e);
        }
    }

    /** Expands directories (sorted by path) and checks every input exists. */
    static List<Path> collectImages(List<Path> inputs, boolean recursive) {
        List<Path> images = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = recursive ? Files.walk(p) : Files.list(p)) {
                    List<Path> found = s.filter(Files::isRegularFile).filter(DetectCommand::isImageName).sorted().toList();
                    if (found.isEmpty()) {
                        throw new DataFileException("directory " + p + " contains no images (" + String.join(", ",
                                new java.util.TreeSet<>(IMAGE_SUFFIXES)) + ")" + (recursive ? "" : "; try --recursive"));
                    }
                    images.addAll(found);
                } catch (IOException e) {
                    throw new DataFileException("cannot list directory " + p + ": " + e, e);
                }
            } else if (Files.exists(p)) {
                images.add(p);
            } else {
                throw new DataFileException("input " + p + " does not exist");
            }
        }
        return images;
    }

    private static boolean isImageName(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && IMAGE_SUFFIXES.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** COCO image ids from the file names' trailing digits; 1..N in input order when they are missing or repeat. */
    static long[] imageIds(List<Path> images, PrintWriter stderr) {
        long[] ids = new long[images.size()];
        Set<Long> seen = new HashSet<>();
        boolean usable = true;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = CocoResultsWriter.imageIdFromFileName(images.get(i));
            if (ids[i] < 0 || !seen.add(ids[i])) {
                usable = false;
            }
        }
        if (!usable) {
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i + 1;
            }
            if (images.size() > 1 || CocoResultsWriter.imageIdFromFileName(images.get(0)) < 0) {
                stderr.println("note: image file names do not all end in distinct numbers (COCO ids); "
                        + "coco_results.json numbers the images 1.." + ids.length + " in input order");
            }
        }
        return ids;
    }

    private static String uniquePngName(Path image, Set<String> used) {
        String name = image.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String candidate = stem + ".png";
        for (int k = 2; !used.add(candidate); k++) {
            candidate = stem + "_" + k + ".png";
        }
        return candidate;
    }

    static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DataFileException("cannot create output directory " + dir + ": " + e, e);
        }
    }

    static String summary(List<ImageDetections> results, double seconds, double loadSeconds, ModelMetadata meta,
                          PostProcessConfig post) {
        int total = 0;
        Map<String, Integer> perLabel = new TreeMap<>();
        for (ImageDetections r : results) {
            for (Detection d : r.detections()) {
                total++;
                perLabel.merge(d.label(), 1, Integer::sum);
            }
        }
        List<Map.Entry<String, Integer>> top = new ArrayList<>(perLabel.entrySet());
        top.sort((a, b) -> b.getValue() != a.getValue().intValue() ? b.getValue() - a.getValue() : a.getKey().compareTo(b.getKey()));
        StringBuilder classes = new StringBuilder();
        for (int i = 0; i < Math.min(8, top.size()); i++) {
            classes.append(i == 0 ? "" : ", ").append(top.get(i).getKey()).append(' ').append(top.get(i).getValue());
        }
        if (top.size() > 8) {
            classes.append(", ...");
        }
        return String.format(Locale.ROOT, "%d image%s, %d detection%s%s in %.2f s (%.1f images/s, wall clock, "
                        + "decode and writing included); model %s loaded in %.2f s, %s, score > %s, IoU %s",
                results.size(), results.size() == 1 ? "" : "s", total, total == 1 ? "" : "s",
                classes.length() > 0 ? " (" + classes + ")" : "", seconds, results.size() / Math.max(seconds, 1e-9),
                meta.modelName(), loadSeconds, post.convention().id(), post.scoreThreshold(), post.iouThreshold());
    }

    /** Where the time went, per image: the detector's own stage timers (decoding the file is preprocessing). */
    static String stages(DetectorStats s) {
        return String.format(Locale.ROOT, "per image: preprocess %.1f ms, network %.1f ms, post-process %.2f ms",
                s.preprocessMillisPerImage(), s.networkMillisPerImage(), s.postprocessMillisPerImage());
    }

    /** Parses convention names case-insensitively with the library's message. */
    static final class ConventionConverter implements CommandLine.ITypeConverter<Convention> {
        @Override
        public Convention convert(String value) {
            try {
                return Convention.parse(value);
            } catch (Fcos4jException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
