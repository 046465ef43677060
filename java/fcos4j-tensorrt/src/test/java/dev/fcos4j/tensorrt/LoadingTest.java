package dev.fcos4j.tensorrt;

import dev.fcos4j.Backend;
import dev.fcos4j.ConfigurationException;
import dev.fcos4j.Detector;
import dev.fcos4j.contract.NetworkFactory;
import dev.fcos4j.model.TinyFcosModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What loads when: the CPU path never touches CUDA or TensorRT classes, and choosing TensorRT without a driver is a
 * typed error naming the library. Natives are only ever loaded in child JVMs here.
 */
class LoadingTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void model() {
        model = dir.resolve("tiny.onnx");
        TinyFcosModel.generate(model, 1, 80);
    }

    private static String child(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (args[0].equals("cpu")) {
            cmd.add("-verbose:class");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ChildMain.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM did not finish");
        String text = new String(out, StandardCharsets.UTF_8);
        String tail = text.length() > 6000 ? text.substring(text.length() - 6000) : text;
        assertEquals(0, p.exitValue(), "child JVM failed (a crash would show here):\n" + tail);
        return text;
    }

    @Test
    void theFactoryIsFoundThroughServiceLoader() {
        List<Backend> found = new ArrayList<>();
        for (NetworkFactory f : ServiceLoader.load(NetworkFactory.class)) {
            found.add(f.backend());
            assertEquals(TensorRtNetworkFactory.class, f.getClass());
        }
        assertEquals(List.of(Backend.GPU_TENSORRT), found);
    }

    @Test
    void badOptionsFailBeforeAnyNativeCode() {
        // Option parsing is plain Java and comes first, so this is safe in the test JVM itself.
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> Detector.builder().modelPath(model).backend(Backend.GPU_TENSORRT)
                        .backendOption("precison", "fp16").build());
        assertTrue(e.getMessage().contains("'precison'"), e.getMessage());
        e = assertThrows(ConfigurationException.class,
                () -> Detector.builder().modelPath(model).backend(Backend.GPU_TENSORRT)
                        .backendOption("precision", "int8").build());
        assertTrue(e.getMessage().contains("int8"), e.getMessage());
    }

    @Test
    void withoutADriverTensorRtIsATypedErrorNamingLibcuda() throws Exception {
        Path cache = dir.resolve("cache");
        String out = child("trt", model.toString(), cache.toString());
        List<String> results = out.lines().filter(l -> l.startsWith("RESULT ")).toList();
        assertEquals(2, results.size(), out);
        if (results.get(0).startsWith("RESULT opened")) {
            return; // a GPU machine: the gpu-tagged tests cover it
        }
        for (String r : results) {
            assertTrue(r.startsWith("RESULT dev.fcos4j.BackendUnavailableException: "), out);
        }
        if (!Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1"))
                && !Files.exists(Path.of("/usr/lib64/libcuda.so.1"))) {
            assertTrue(results.get(0).contains("no CUDA driver (libcuda.so.1)"), out);
        }
        assertEquals(results.get(0), results.get(1), "the second attempt reports the same");
        assertFalse(Files.exists(cache), "nothing was built or cached");
    }

    @Test
    void theCpuPathLoadsNoCudaOrTensorRtClass() throws Exception {
        String log = child("cpu", model.toString());
        assertTrue(log.contains("DETECTIONS"), "the child ran a detection");
        assertTrue(log.contains("dev.fcos4j.Detector "), "the class-loading log lists loaded classes");
        assertTrue(log.contains("ai.onnxruntime.OrtSession "), "ONNX Runtime was loaded");
        assertTrue(System.getProperty("java.class.path").contains("tensorrt"),
                "the TensorRT binding is on the child's class path");
        for (String line : log.split("\\R")) {
            int at = line.indexOf("[class,load] ");
            if (at < 0) {
                continue;
            }
            String cls = line.substring(at + 13).split(" ")[0];
            String l = cls.toLowerCase(Locale.ROOT);
            if (line.contains("/test-classes/")) {
                continue; // this test's own child entry point
            }
            assertFalse(l.startsWith("org.bytedeco.cuda") || l.startsWith("org.bytedeco.tensorrt")
                    || l.startsWith("dev.fcos4j.tensorrt."), "GPU class loaded by a CPU detector: " + line);
        }
    }
}
