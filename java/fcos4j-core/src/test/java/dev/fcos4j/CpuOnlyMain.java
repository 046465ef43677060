package dev.fcos4j;

import java.nio.file.Path;

/** Child-JVM entry for DetectorPlumbingTest#cpuBackendLoadsNoGpuClass: one CPU detection with the given model. */
public final class CpuOnlyMain {
    private CpuOnlyMain() {
    }

    public static void main(String[] args) {
        try (Detector d = Detector.builder().modelPath(Path.of(args[0])).intraOpThreads(1).build()) {
            System.out.println("DETECTIONS " + d.detect(TestImages.synthetic(64, 48, 5)).size());
        }
    }
}
