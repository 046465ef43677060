package dev.fcos4j.cli;

import dev.fcos4j.Backend;
import dev.fcos4j.model.TinyFcosModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.fcos4j.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --backend cpu|trt-fp32|trt-fp16} of detect, eval and compare. Anything that would load CUDA or TensorRT
 * runs in a child JVM (the real {@code main}, with its exit code), so this JVM never loads them.
 */
class TensorRtBackendCliTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path image;

    @BeforeAll
    static void modelAndImage() throws IOException {
        model = dir.resolve("tiny.onnx");
        TinyFcosModel.generate(model, 1, 80);
        BufferedImage img = new BufferedImage(96, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, ((x * 2) << 16) | ((y * 3) << 8) | ((x * y) & 0xFF));
            }
        }
        image = dir.resolve("img.png");
        ImageIO.write(img, "png", image.toFile());
    }

    record Child(int code, String output) {
    }

    private static Child child(boolean verboseClass, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (verboseClass) {
            cmd.add("-verbose:class");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM did not finish");
        return new Child(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static boolean driverPresent() {
        return Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1")) || Files.exists(Path.of("/usr/lib64/libcuda.so.1"));
    }

    @Test
    void compareWithATensorRtCandidateWithoutAGpuExitsTwoNamingTheDriver() throws Exception {
        Child c = child(false, "compare", "--model", model.toString(), "--candidate", "trt-fp16", "--threads", "1",
                "--backend-option", "engine_cache=" + dir.resolve("engines"), image.toString());
        if (driverPresent()) {
            // A GPU machine: the candidate runs; agreement is the gpu-tagged tests' business.
            assertTrue(c.code() == 0 || c.code() == CompareCommand.EXIT_DISAGREE, c.output());
            return;
        }
        assertEquals(2, c.code(), c.output());
        assertTrue(c.output().contains("fcos4j: no CUDA driver (libcuda.so.1)"), c.output());
        assertFalse(c.output().contains("Exception"), "one message, no stack trace: " + c.output());
    }

    @Test
    void detectOnTheCpuLoadsNoGpuClassEvenWithTheModuleOnTheClassPath() throws Exception {
        Child c = child(true, "detect", "--model", model.toString(), "--threads", "1", image.toString());
        assertEquals(0, c.code(), c.output().length() > 4000 ? c.output().substring(c.output().length() - 4000) : c.output());
        assertTrue(c.output().contains("\"backend\" : \"cpu\""), "the detections JSON names the backend");
        assertTrue(c.output().contains("dev.fcos4j.Detector "), "the class-loading log lists loaded classes");
        assertTrue(System.getProperty("java.class.path").contains("fcos4j-tensorrt"),
                "the TensorRT module is on the class path");
        for (String line : c.output().split("\\R")) {
            int at = line.indexOf("[class,load] ");
            if (at < 0) {
                continue;
            }
            String cls = line.substring(at + 13).split(" ")[0].toLowerCase(Locale.ROOT);
            assertFalse(cls.startsWith("org.bytedeco.cuda") || cls.startsWith("org.bytedeco.tensorrt")
                    || cls.startsWith("dev.fcos4j.tensorrt."), "GPU class loaded by a CPU detect: " + line);
        }
    }

    @Test
    void backendNamesAndOptionsAreCheckedBeforeAnythingLoads() {
        CliTestSupport.Result r = run("detect", "--model", model.toString(), "--backend", "trt-int8", image.toString());
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("--backend trt-int8 is unknown (available: cpu, trt-fp32, trt-fp16"), r::toString);
        r = run("detect", "--model", model.toString(), "--backend-option", "engine_cache", "--backend", "trt-fp32",
                image.toString());
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("expected KEY=VALUE"), r::toString);
        r = run("detect", "--model", model.toString(), "--backend-option", "max_batch=2", image.toString());
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("for the TensorRT backends"), r::toString);
        // An unknown TensorRT option is found by the backend's option parsing, which is plain Java.
        r = run("detect", "--model", model.toString(), "--backend", "trt-fp32", "--backend-option", "workspace=1",
                image.toString());
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("unknown TensorRT backend option 'workspace'"), r::toString);
        r = run("eval", "-a", model.toString(), "-m", model.toString(), "-i", dir.toString(), "--backend", "gpu");
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("--backend gpu is unknown"), r::toString);
        r = run("compare", "--model", model.toString(), "--reference", "TRT-FP64", image.toString());
        assertEquals(2, r.code(), r::toString);
        // plain "trt" is fp32: an option error proves it parsed as a TensorRT backend, before anything loaded
        r = run("detect", "--model", model.toString(), "--backend", "trt", "--backend-option", "workspace=1",
                image.toString());
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("unknown TensorRT backend option 'workspace'"), r::toString);
    }

    @Test
    void plainTrtMeansFp32() {
        CommandLine cl = new CommandLine(new Main());
        assertEquals(Map.of("precision", "fp32"), InferenceBackend.parse(cl, "--backend", "trt", null).options());
        assertEquals(Map.of("precision", "fp32"), InferenceBackend.parse(cl, "--backend", "TRT-fp32", null).options());
        assertEquals(Map.of("precision", "fp16"), InferenceBackend.parse(cl, "--backend", "trt-fp16", null).options());
        assertEquals(Backend.CPU, InferenceBackend.parse(cl, "--backend", "cpu", null).backend());
    }
}
