package dev.fcos4j;

import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.memory.GcSupport;
import dev.fcos4j.memory.LeakTracker;
import dev.fcos4j.model.TinyFcosModel;
import dev.fcos4j.model.TinyFcosModel.Defect;
import dev.fcos4j.model.TinyFcosModel.Spec;
import dev.fcos4j.onnx.OnnxRuntimeNetwork;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.preprocess.ImageMeta;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Detector's own plumbing (builder, overrides, batching, async, close, leaks, errors before post-processing),
 * with {@link PlumbingPostProcessorDouble} standing in for post-processing.
 */
class DetectorPlumbingTest {
    @TempDir
    static Path dir;
    static Path model;
    private final AtomicReference<PlumbingPostProcessorDouble> post = new AtomicReference<>();
    private int sessionsBefore;

    @BeforeAll
    static void generate() {
        model = dir.resolve("tiny3.onnx");
        TinyFcosModel.generate(model, 3, 3);
    }

    @BeforeEach
    void count() {
        sessionsBefore = OnnxRuntimeNetwork.openSessions();
    }

    @AfterEach
    void noLeaks() {
        assertEquals(sessionsBefore, OnnxRuntimeNetwork.openSessions(), "sessions left open");
        assertEquals(0, OnnxRuntimeNetwork.openOutputs(), "network outputs left open");
        assertEquals(0, OnnxRuntimeNetwork.openTensors(), "ONNX Runtime tensors left open");
    }

    private Detector.Builder builder() {
        return Detector.builder().modelPath(model).intraOpThreads(1).postProcessorFactory(m -> {
            PlumbingPostProcessorDouble d = new PlumbingPostProcessorDouble(m.postprocess(), m.classNames());
            post.set(d);
            return d;
        });
    }

    @Test
    void imagesOfEveryKindReachPostProcessingWithTheirGeometry() {
        BufferedImage img = TestImages.synthetic(200, 100, 1);
        Path file = TestImages.pngFile(dir, "a.png", img);
        try (Detector d = builder().build()) {
            // mmdet (1333, 800): scale = min(1333/200, 800/100) = 6.665 -> 1333 x 667, padded to 1344 x 672
            ImageMeta expected = new ImageMeta(100, 200, 667, 1333);
            List<Detection> fromFile = d.detect(file);
            List<Detection> fromBytes = d.detect(TestImages.png(img));
            List<Detection> fromImage = d.detect(img);
            assertEquals(3, post.get().seenMetas.size());
            for (List<ImageMeta> metas : post.get().seenMetas) {
                assertEquals(List.of(expected), metas);
            }
            for (int[] shape : post.get().seenShapes) {
                assertArrayEquals(new int[] {1, 3, 672 / 8, 1344 / 8}, shape);
            }
            assertEquals(fromFile, fromBytes);
            assertEquals(fromFile, fromImage);
            Detection det = fromFile.get(0);
            assertEquals(200f, det.x2());
            assertEquals(100f, det.y2());
            assertEquals("person", det.label());
        }
        assertTrue(post.get().closed.get(), "post-processor closed with the detector");
    }

    @Test
    void batchesAreSplitAtMaxBatchAndKeepInputOrder() throws IOException {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            files.add(TestImages.pngFile(dir, "b" + i + ".png", TestImages.synthetic(64 + 16 * i, 48, 10 + i)));
        }
        try (Detector d = builder().maxBatch(2).build()) {
            assertEquals(new DetectorStats(0, 0, 0, 0, 0, 0, 0), d.stats());
            List<List<Detection>> all = d.detectBatch(files);
            assertEquals(5, all.size());
            assertEquals(List.of(2, 2, 1), post.get().seenMetas.stream().map(List::size).toList());
            DetectorStats stats = d.stats();
            assertEquals(5, stats.images());
            assertEquals(3, stats.batches(), "one network run per chunk of maxBatch");
            assertEquals(0, stats.failedBatches());
            assertTrue(stats.preprocessNanos() > 0 && stats.networkNanos() > 0 && stats.postprocessNanos() > 0, stats::toString);
            assertEquals(stats.networkNanos() / 1e6 / 5, stats.networkMillisPerImage(), 1e-9);
            // a batch that fails counts as failed and adds no images
            Path broken = dir.resolve("broken.png");
            Files.write(broken, new byte[] {1, 2, 3});
            assertThrows(ImageDecodeException.class, () -> d.detectBatch(List.of(files.get(0), broken)));
            assertEquals(5, d.stats().images());
            assertEquals(1, d.stats().failedBatches());
            assertEquals(3, d.stats().batches());
            for (int i = 0; i < 5; i++) {
                assertEquals(64 + 16 * i, (int) all.get(i).get(0).x2(), "image " + i + " in order");
            }
        }
    }

    @Test
    void asyncEqualsSyncAndConcurrentCallsAgree() throws Exception {
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            images.add(TestImages.png(TestImages.synthetic(96, 64, 20 + i)));
        }
        try (Detector d = builder().asyncThreads(2).build()) {
            List<List<Detection>> sync = new ArrayList<>();
            for (byte[] b : images) {
                sync.add(d.detect(b));
            }
            List<CompletableFuture<List<Detection>>> futures = new ArrayList<>();
            for (byte[] b : images) {
                futures.add(d.detectAsync(b));
            }
            for (int i = 0; i < images.size(); i++) {
                assertEquals(sync.get(i), futures.get(i).join());
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<List<Detection>>> parallel = new ArrayList<>();
                for (int rep = 0; rep < 3; rep++) {
                    for (byte[] b : images) {
                        parallel.add(pool.submit(() -> d.detect(b)));
                    }
                }
                for (int i = 0; i < parallel.size(); i++) {
                    assertEquals(sync.get(i % images.size()), parallel.get(i).get());
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void closedDetectorRefusesEveryCallAndCloseIsIdempotent() {
        Detector d = builder().build();
        d.close();
        d.close();
        assertTrue(d.isClosed());
        BufferedImage img = TestImages.synthetic(32, 32, 1);
        ResourceClosedException e = assertThrows(ResourceClosedException.class, () -> d.detect(img));
        assertTrue(e.getMessage().contains(model.toString()), e.getMessage());
        CompletionException async = assertThrows(CompletionException.class, () -> d.detectAsync(img).join());
        assertInstanceOf(ResourceClosedException.class, async.getCause());
    }

    @Test
    void closeWithAsyncCallsInFlightCompletesOrFailsEachOfThem() {
        Detector d = builder().asyncThreads(2).build();
        List<CompletableFuture<List<Detection>>> futures = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            futures.add(d.detectAsync(TestImages.synthetic(64, 64, i)));
        }
        d.close();
        for (CompletableFuture<List<Detection>> f : futures) {
            // close() returned, so nothing is left running: every future is settled
            assertTrue(f.isDone(), "future still pending after close");
            try {
                assertEquals(1, f.join().size());
            } catch (CompletionException e) {
                assertInstanceOf(ResourceClosedException.class, e.getCause());
            }
        }
    }

    @Test
    void asyncRequestsBeyondMaxPendingFailAtOnceAndTheDetectorCarriesOn() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        Detector d = Detector.builder().modelPath(model).intraOpThreads(1).asyncThreads(1).maxPendingAsync(3)
                .postProcessorFactory(m -> new PlumbingPostProcessorDouble(m.postprocess(), m.classNames()) {
                    @Override
                    public List<List<Detection>> process(HeadTensors heads, List<ImageMeta> metas) {
                        started.countDown();
                        try {
                            assertTrue(gate.await(1, TimeUnit.MINUTES), "gate never opened");
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        return super.process(heads, metas);
                    }
                }).build();
        try {
            List<CompletableFuture<List<Detection>>> admitted = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                admitted.add(d.detectAsync(TestImages.synthetic(64, 64, i)));
            }
            assertTrue(started.await(1, TimeUnit.MINUTES));
            // one running, two queued: the fourth is refused without waiting
            CompletableFuture<List<Detection>> refused = d.detectAsync(TestImages.synthetic(64, 64, 9));
            assertTrue(refused.isDone(), "a request beyond the limit must not wait");
            CompletionException e = assertThrows(CompletionException.class, refused::join);
            assertInstanceOf(DetectorBusyException.class, e.getCause());
            assertEquals(1, d.stats().rejectedAsync());
            assertTrue(e.getCause().getMessage().contains("3 async requests") && e.getCause().getMessage().contains(model.toString()),
                    e.getCause().getMessage());
            gate.countDown();  // the admitted requests finish
            for (CompletableFuture<List<Detection>> f : admitted) {
                assertEquals(1, f.get(1, TimeUnit.MINUTES).size());
            }
            // the permits came back: three more are admitted
            List<CompletableFuture<List<Detection>>> again = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                again.add(d.detectAsync(TestImages.synthetic(64, 64, 20 + i)));
            }
            for (CompletableFuture<List<Detection>> f : again) {
                assertEquals(1, f.get(1, TimeUnit.MINUTES).size());
            }
        } finally {
            gate.countDown();
            d.close();
        }
        assertThrows(ConfigurationException.class, () -> Detector.builder().maxPendingAsync(0));
    }

    /** Opens a detector, uses its async thread, and drops it unclosed; returns the threads it started. */
    private Set<Thread> dropUnclosedDetector() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        Detector d = builder().build();
        assertEquals(1, d.detectAsync(TestImages.synthetic(64, 64, 1)).get(1, TimeUnit.MINUTES).size());
        Set<Thread> started = new HashSet<>(Thread.getAllStackTraces().keySet());
        started.removeAll(before);
        started.removeIf(t -> !t.getName().startsWith("fcos4j-detector-"));
        assertEquals(1, started.size(), "one async thread: " + started);
        return started;
    }

    @Test
    void aDetectorDroppedWithoutCloseIsFreedByTheLeakTracker() throws Exception {
        long leaksBefore = LeakTracker.leaked();
        Set<Thread> threads = dropUnclosedDetector();
        assertEquals(sessionsBefore + 1, OnnxRuntimeNetwork.openSessions());
        GcSupport.collectUntil("the dropped detector's session was closed",
                () -> OnnxRuntimeNetwork.openSessions() == sessionsBefore);
        for (Thread t : threads) {
            t.join(TimeUnit.MINUTES.toMillis(1));
            assertFalse(t.isAlive(), "the dropped detector's async thread was stopped");
        }
        assertTrue(LeakTracker.leaked() >= leaksBefore + 2, "detector and session both reported");
    }

    @Test
    void conventionAndThresholdOverrides() {
        try (Detector d = builder().build()) {
            assertEquals(Convention.MMDET, d.postProcessConfig().convention());
            assertEquals(0.05f, d.postProcessConfig().scoreThreshold());
            assertEquals(0.5f, d.postProcessConfig().iouThreshold());
        }
        try (Detector d = builder().convention("torchvision").scoreThreshold(0.3f).maxDetections(7).build()) {
            assertEquals(Convention.TORCHVISION, d.postProcessConfig().convention());
            assertEquals(0.3f, d.postProcessConfig().scoreThreshold());
            assertEquals(0.6f, d.postProcessConfig().iouThreshold(), "torchvision default once the convention changes");
            assertEquals(7, d.postProcessConfig().maxDetections());
            assertEquals(d.postProcessConfig(), post.get().config);
        }
    }

    @Test
    void unknownConventionIsAConfigurationError() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> Detector.builder().convention("yolo"));
        assertTrue(e.getMessage().contains("yolo"), e.getMessage());
    }

    @Test
    void badOptionsAreConfigurationErrors() {
        assertThrows(ConfigurationException.class, () -> Detector.builder().build());
        assertThrows(ConfigurationException.class, () -> builder().scoreThreshold(1.5f).build());
        assertThrows(ConfigurationException.class, () -> Detector.builder().intraOpThreads(-1));
        Path missing = dir.resolve("missing.onnx");
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> Detector.builder().modelPath(missing).build());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void gpuBackendWithoutItsModuleIsANativeLibraryError() {
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> Detector.builder().modelPath(model).backend(Backend.GPU_TENSORRT).build());
        assertTrue(e.getMessage().contains("GPU_TENSORRT"), e.getMessage());
    }

    @Test
    void cpuBackendLoadsNoGpuClass() throws Exception {
        // A child JVM with -verbose:class runs one CPU detection; its class-loading log must show the detector
        // and ONNX Runtime, and nothing of CUDA or TensorRT.
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(javaBin.toString(), "-verbose:class", "-cp", System.getProperty("java.class.path"),
                CpuOnlyMain.class.getName(), model.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), log.length() > 4000 ? log.substring(log.length() - 4000) : log);
        assertTrue(log.contains("DETECTIONS"), "the child ran a detection");
        assertTrue(log.contains("dev.fcos4j.Detector "), "the class-loading log lists loaded classes");
        assertTrue(log.contains("ai.onnxruntime.OrtSession "), "ONNX Runtime was loaded");
        for (String line : log.split("\\R")) {
            int at = line.indexOf("[class,load] ");
            if (at < 0) {
                continue;
            }
            String cls = line.substring(at + 13).split(" ")[0];
            // ONNX Runtime's own provider-option classes are plain Java it loads with every session.
            String l = cls.toLowerCase(java.util.Locale.ROOT);
            assertTrue(cls.startsWith("ai.onnxruntime.")
                            || !(l.contains("cuda") || l.contains("tensorrt") || l.contains("nvinfer")),
                    "GPU class loaded by a CPU detector: " + line);
        }
    }

    @Test
    void unreadableAndCorruptImagesNameTheFile() throws Exception {
        Path corrupt = dir.resolve("corrupt.jpg");
        Files.write(corrupt, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0, 1, 2, 3, 4, 5});
        Path missing = dir.resolve("missing.jpg");
        try (Detector d = builder().build()) {
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> d.detect(corrupt));
            assertTrue(e.getMessage().contains(corrupt.toString()), e.getMessage());
            e = assertThrows(ImageDecodeException.class, () -> d.detect(missing));
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
            assertThrows(ImageDecodeException.class, () -> d.detect(new byte[] {1, 2, 3}));
            // a failed call leaves the detector usable
            assertEquals(1, d.detect(TestImages.synthetic(40, 30, 3)).size());
        }
    }

    @Test
    void nonContractModelsAreRejectedWithEveryProblemNamed() {
        for (Defect defect : List.of(Defect.MISSING_LEVEL, Defect.WRONG_CHANNELS, Defect.WRONG_RANK)) {
            Path bad = dir.resolve("bad-" + defect + ".onnx");
            TinyFcosModel.generate(bad, Spec.of(3, 3).withDefect(defect));
            ModelContractException e = assertThrows(ModelContractException.class,
                    () -> Detector.builder().modelPath(bad).build());
            assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
            String tensor = switch (defect) {
                case MISSING_LEVEL -> "cls_4";
                case WRONG_CHANNELS -> "reg_1";
                default -> "ctr_2";
            };
            assertTrue(e.getMessage().contains(tensor), defect + ": " + e.getMessage());
        }
    }
}
