package dev.fcos4j.cli;

import dev.fcos4j.Detection;
import dev.fcos4j.Detector;
import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.eval.CocoDetections;
import dev.fcos4j.eval.CocoEvalResult;
import dev.fcos4j.eval.CocoEvaluator;
import dev.fcos4j.eval.CocoGroundTruth;
import dev.fcos4j.eval.CocoImage;
import dev.fcos4j.eval.UnknownCategoryPolicy;
import dev.fcos4j.io.AnnotatedImageWriter;
import dev.fcos4j.io.CocoCategories;
import dev.fcos4j.io.DataFileException;
import dev.fcos4j.preprocess.Images;
import org.bytedeco.opencv.opencv_core.Mat;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code fcos4j eval}: COCO bbox evaluation, either of a model run on the ground truth's images or of an
 * existing results file. Prints the reference COCO API's 12-line summary and a per-class AP table.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"COCO bbox evaluation (reproduces the reference COCO API's 12 statistics).",
                "Either runs --model on the images of --annotations found in --images, or evaluates --results.",
                "With --out DIR: writes DIR/coco_results.json (when detecting) and DIR/eval.json."})
final class EvalCommand implements Callable<Integer> {
    @Option(names = {"-a", "--annotations"}, required = true, paramLabel = "GT.json",
            description = "COCO ground truth (instances_*.json).")
    Path annotations;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL.onnx", description = "The contract model to run.")
    Path model;

    @Option(names = {"-i", "--images"}, paramLabel = "DIR", description = "Directory holding the ground truth's file_name images.")
    Path images;

    @Option(names = {"-r", "--results"}, paramLabel = "R.json", description = "Evaluate this COCO results file instead of running a model.")
    Path results;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu",
            description = "Inference backend: " + InferenceBackend.NAMES + " (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--backend-option", paramLabel = "KEY=VALUE",
            description = "A TensorRT backend option, repeatable (see detect --help).")
    List<String> backendOptions;

    @Option(names = "--limit", paramLabel = "N", description = "Evaluate only the first N images of the ground truth (by id).")
    Integer limit;

    @Option(names = {"-b", "--batch"}, paramLabel = "N", defaultValue = "1", description = "Images per network run (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "ONNX Runtime intra-op threads, 0 = all cores.")
    int threads;

    @Option(names = "--score-threshold", paramLabel = "S", description = "Candidate score threshold (default: the model's).")
    Float scoreThreshold;

    @Option(names = "--unknown-categories", paramLabel = "POLICY", defaultValue = "ignore",
            description = "Detections whose category is not in the ground truth: ignore (as the reference does) or reject.")
    String unknownCategories;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Output directory for coco_results.json and eval.json.")
    Path out;

    @Option(names = "--plot", paramLabel = "DIR", description = "With --model: write each image with its detections "
            + "(class colours) and its ground-truth boxes (white) as DIR/<image>.png.")
    Path plot;

    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto", description = "Progress on stderr: auto, always, never.")
    Progress.Mode progress;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        if ((results == null) == (model == null)) {
            throw new CommandLine.ParameterException(cl, "give either --model (with --images) or --results, not both or neither");
        }
        if (model != null && images == null) {
            throw new CommandLine.ParameterException(cl, "--model needs --images DIR (where the ground truth's images are)");
        }
        InferenceBackend choice = InferenceBackend.parse(cl, "--backend", backend, backendOptions);
        if (plot != null && model == null) {
            throw new CommandLine.ParameterException(cl, "--plot needs --model (it draws the detections of this run)");
        }
        if (limit != null && limit < 1) {
            throw new CommandLine.ParameterException(cl, "--limit must be at least 1, got " + limit);
        }
        if (batch < 1) {
            throw new CommandLine.ParameterException(cl, "--batch must be at least 1, got " + batch);
        }
        UnknownCategoryPolicy policy = switch (unknownCategories.toLowerCase(java.util.Locale.ROOT)) {
            case "ignore" -> UnknownCategoryPolicy.IGNORE;
            case "reject" -> UnknownCategoryPolicy.REJECT;
            default -> throw new CommandLine.ParameterException(cl,
                    "--unknown-categories must be ignore or reject, got " + unknownCategories);
        };
        PrintWriter stdout = cl.getOut();
        PrintWriter stderr = cl.getErr();
        if (out != null) {
            DetectCommand.createDirectories(out);
        }
        CocoGroundTruth gt = CocoGroundTruth.load(annotations);
        if (limit != null && limit < gt.imageCount()) {
            // Score only the images visited, as the reference does with params.imgIds.
            long[] ids = gt.imageIds().clone();
            java.util.Arrays.sort(ids);
            gt = gt.restrictToImages(java.util.Arrays.copyOf(ids, limit));
            stderr.println("note: evaluating the first " + limit + " images (by id) of " + annotations);
        }
        CocoDetections dt;
        if (results != null) {
            dt = CocoDetections.load(results);
        } else {
            dt = detect(gt, choice, stderr);
            if (out != null) {
                dt.writeJson(out.resolve("coco_results.json"));
            }
        }
        CocoEvalResult result = CocoEvaluator.evaluate(gt, dt, policy);
        stdout.println(result.summary());
        stdout.println();
        stdout.println(result.perClassTable());
        for (String w : result.warnings()) {
            stderr.println("warning: " + w);
        }
        if (out != null) {
            Path evalJson = out.resolve("eval.json");
            try (OutputStream os = Files.newOutputStream(evalJson)) {
                result.writeJson(os);
            } catch (IOException e) {
                throw new DataFileException("cannot write " + evalJson + ": " + e, e);
            }
            stdout.println("wrote " + evalJson + (model != null ? " and " + out.resolve("coco_results.json") : ""));
        }
        stdout.flush();
        stderr.flush();
        return 0;
    }

    /** Runs the model on the ground truth's images (sorted by id, first --limit) and collects COCO detections. */
    private CocoDetections detect(CocoGroundTruth gt, InferenceBackend choice, PrintWriter stderr) {
        if (!Files.isRegularFile(model)) {
            throw new DataFileException("model file " + model + " does not exist");
        }
        List<CocoImage> selected = new ArrayList<>(gt.images());
        selected.sort(java.util.Comparator.comparingLong(CocoImage::id));
        List<Path> files = new ArrayList<>(selected.size());
        List<String> missing = new ArrayList<>();
        for (CocoImage image : selected) {
            if (image.fileName() == null || image.fileName().isEmpty()) {
                throw new DataFileException(annotations + ": image id " + image.id() + " has no file_name");
            }
            Path file = images.resolve(image.fileName());
            if (!Files.isRegularFile(file)) {
                missing.add(file.toString());
            }
            files.add(file);
        }
        if (!missing.isEmpty()) {
            throw new DataFileException(missing.size() + " of " + files.size() + " images of " + annotations
                    + " are missing from " + images + ", first: " + missing.get(0));
        }
        Detector.Builder builder = choice.applyTo(Detector.builder().modelPath(model).intraOpThreads(threads)
                .maxBatch(batch));
        if (scoreThreshold != null) {
            builder.scoreThreshold(scoreThreshold);
        }
        CocoDetections.Builder dt = CocoDetections.builder(model + " on " + images);
        try (Detector detector = builder.build()) {
            ModelMetadata meta = detector.metadata();
            int[] categoryIds = CocoCategories.categoryIdsFor(meta.classNames(), meta.numClasses());
            AnnotatedImageWriter plotter = plot != null ? new AnnotatedImageWriter() : null;
            if (plot != null) {
                DetectCommand.createDirectories(plot);
            }
            Progress bar = new Progress(stderr, files.size(), progress, Progress.stderrIsTerminal(), "images");
            for (int first = 0; first < files.size(); first += batch) {
                int end = Math.min(files.size(), first + batch);
                List<List<Detection>> dets = detector.detectBatch(files.subList(first, end));
                for (int i = first; i < end; i++) {
                    long imageId = selected.get(i).id();
                    for (Detection d : dets.get(i - first)) {
                        dt.add(imageId, categoryIds[d.classId()], d);
                    }
                    if (plotter != null) {
                        String name = files.get(i).getFileName().toString();
                        String stem = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
                        try (Mat bgr = Images.readBgr(files.get(i))) {
                            plotter.write(bgr, dets.get(i - first), gt.boxesOf(imageId), plot.resolve(stem + ".png"));
                        }
                    }
                }
                bar.update(end);
            }
        }
        return dt.build();
    }
}
