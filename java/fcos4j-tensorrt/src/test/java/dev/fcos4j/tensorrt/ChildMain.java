package dev.fcos4j.tensorrt;

import dev.fcos4j.TestImages;
import dev.fcos4j.Backend;
import dev.fcos4j.Detector;

import java.nio.file.Path;

/**
 * Child-JVM entry of {@link LoadingTest}: "trt MODEL CACHE" opens a TensorRT detector and prints the outcome;
 * "cpu MODEL" runs one CPU detection with this module on the class path.
 */
public final class ChildMain {
    private ChildMain() {
    }

    public static void main(String[] args) {
        Path model = Path.of(args[1]);
        if (args[0].equals("cpu")) {
            try (Detector d = Detector.builder().modelPath(model).intraOpThreads(1).build()) {
                System.out.println("DETECTIONS " + d.detect(TestImages.synthetic(64, 48, 5)).size());
            }
            return;
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            // Twice: the second attempt must report the same typed error, not a NoClassDefFoundError.
            try (Detector d = Detector.builder().modelPath(model).backend(Backend.GPU_TENSORRT)
                    .backendOption("precision", "fp16").backendOption("engine_cache", args[2]).build()) {
                System.out.println("RESULT opened " + d.detect(TestImages.synthetic(64, 48, 5)).size());
            } catch (RuntimeException e) {
                System.out.println("RESULT " + e.getClass().getName() + ": " + e.getMessage());
            }
        }
    }
}
