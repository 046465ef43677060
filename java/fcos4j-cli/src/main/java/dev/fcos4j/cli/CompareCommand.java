package dev.fcos4j.cli;

import dev.fcos4j.Detection;
import dev.fcos4j.Detector;
import dev.fcos4j.eval.DetectionAgreement;
import dev.fcos4j.io.DataFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code fcos4j compare}: runs a reference and a candidate (backend, precision or model file) on the same images
 * and reports how far the candidate's detections are from the reference's; exits {@value #EXIT_DISAGREE} when a
 * tolerance is exceeded, so a deployment pipeline can refuse an engine that lost accuracy.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs a reference and a candidate on the same images and checks their detections agree.",
                "Exit code " + CompareCommand.EXIT_DISAGREE + " when the candidate is outside a tolerance."})
final class CompareCommand implements Callable<Integer> {
    /** Exit code of a candidate outside the tolerances. */
    static final int EXIT_DISAGREE = 3;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL.onnx", description = "The reference model.")
    Path model;

    @Option(names = "--candidate-model", paramLabel = "MODEL.onnx",
            description = "The candidate's model file (default: the reference's), e.g. an fp16 export.")
    Path candidateModel;

    @Option(names = "--reference", paramLabel = "BACKEND", defaultValue = "cpu",
            description = "Reference backend (default: ${DEFAULT-VALUE}). Available: " + InferenceBackend.NAMES + ".")
    String reference;

    @Option(names = "--candidate", paramLabel = "BACKEND", defaultValue = "cpu",
            description = "Candidate backend (default: ${DEFAULT-VALUE}). Available: " + InferenceBackend.NAMES + ".")
    String candidate;

    @Option(names = "--backend-option", paramLabel = "KEY=VALUE",
            description = "A TensorRT backend option for the trt-* side(s), repeatable (see detect --help).")
    List<String> backendOptions;

    @Option(names = "--limit", paramLabel = "N", description = "Compare only the first N images.")
    Integer limit;

    @Option(names = "--match-iou", paramLabel = "IOU", defaultValue = "0.5",
            description = "Minimum IoU of a matched pair (default: ${DEFAULT-VALUE}).")
    double matchIou;

    @Option(names = "--max-box-deviation", paramLabel = "PX", description = "Tolerance, pixels (default: 2).")
    Double maxBoxDeviation;

    @Option(names = "--max-score-deviation", paramLabel = "S", description = "Tolerance (default: 0.02).")
    Double maxScoreDeviation;

    @Option(names = "--min-matched", paramLabel = "F", description = "Minimum matched fraction of the reference's detections (default: 0.98).")
    Double minMatched;

    @Option(names = "--min-ap", paramLabel = "AP", description = "Minimum AP of the candidate against the reference (default: 0.95).")
    Double minAp;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "ONNX Runtime intra-op threads, 0 = all cores.")
    int threads;

    @Option(names = "--progress", paramLabel = "WHEN", defaultValue = "auto", description = "Progress on stderr: auto, always, never.")
    Progress.Mode progress;

    @Parameters(arity = "1..*", paramLabel = "IMAGE|DIR", description = "Images and directories of images.")
    List<Path> inputs;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        InferenceBackend referenceBackend = choice(cl, "--reference", reference);
        InferenceBackend candidateBackend = choice(cl, "--candidate", candidate);
        if (limit != null && limit < 1) {
            throw new CommandLine.ParameterException(cl, "--limit must be at least 1, got " + limit);
        }
        if (!(matchIou > 0 && matchIou <= 1)) {
            throw new CommandLine.ParameterException(cl, "--match-iou must be in (0, 1], got " + matchIou);
        }
        DetectionAgreement.Tolerances d = DetectionAgreement.Tolerances.defaults();
        DetectionAgreement.Tolerances tolerances = new DetectionAgreement.Tolerances(
                maxBoxDeviation != null ? maxBoxDeviation : d.maxBoxDeviation(),
                maxScoreDeviation != null ? maxScoreDeviation : d.maxScoreDeviation(),
                minMatched != null ? minMatched : d.minMatchedFraction(),
                minAp != null ? minAp : d.minApVsReference());
        Path candidateFile = candidateModel != null ? candidateModel : model;
        for (Path m : List.of(model, candidateFile)) {
            if (!Files.isRegularFile(m)) {
                throw new DataFileException("model file " + m + " does not exist");
            }
        }
        List<Path> images = DetectCommand.collectImages(inputs, false);
        if (limit != null && limit < images.size()) {
            images = images.subList(0, limit);
        }
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        List<List<Detection>> ref = run(model, referenceBackend, images, "reference " + reference, err);
        List<List<Detection>> cand = run(candidateFile, candidateBackend, images, "candidate " + candidate, err);
        DetectionAgreement.Report report = DetectionAgreement.compare(ref, cand, matchIou);
        out.println("reference: " + reference + " " + model);
        out.println("candidate: " + candidate + " " + candidateFile);
        out.println(report.summary());
        if (report.worstImage() >= 0) {
            out.println("least agreement on: " + images.get(report.worstImage()));
        }
        List<String> violations = tolerances.violations(report);
        if (violations.isEmpty()) {
            out.println("PASS: within tolerances (box " + tolerances.maxBoxDeviation() + " px, score "
                    + tolerances.maxScoreDeviation() + ", matched " + tolerances.minMatchedFraction() + ", AP "
                    + tolerances.minApVsReference() + ")");
            out.flush();
            return 0;
        }
        out.println("FAIL: " + String.join("; ", violations));
        out.flush();
        return EXIT_DISAGREE;
    }

    private List<List<Detection>> run(Path modelFile, InferenceBackend backend, List<Path> images, String what,
                                      PrintWriter err) {
        List<List<Detection>> results = new ArrayList<>(images.size());
        try (Detector detector = backend.applyTo(Detector.builder().modelPath(modelFile).intraOpThreads(threads))
                .build()) {
            Progress bar = new Progress(err, images.size(), progress, Progress.stderrIsTerminal(), "images (" + what + ")");
            for (int i = 0; i < images.size(); i++) {
                results.add(detector.detect(images.get(i)));
                bar.update(i + 1);
            }
        }
        return results;
    }

    /** The backend of one side; --backend-option applies to the TensorRT side(s) only. */
    private InferenceBackend choice(CommandLine cl, String option, String name) {
        boolean trt = !name.trim().equalsIgnoreCase("cpu");
        return InferenceBackend.parse(cl, option, name, trt ? backendOptions : null);
    }
}
