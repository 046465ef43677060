package dev.fcos4j;

import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.contract.Network;
import dev.fcos4j.contract.NetworkFactory;
import dev.fcos4j.contract.NetworkOutput;
import dev.fcos4j.memory.LeakTracker;
import dev.fcos4j.onnx.OnnxRuntimeNetwork;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.PostProcessor;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import dev.fcos4j.preprocess.ImageBatch;
import dev.fcos4j.preprocess.Preprocessor;

import org.bytedeco.opencv.opencv_core.Mat;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * FCOS object detection with a contract model (engines/CONTRACT.md): image in, {@link Detection}s out, boxes in
 * original-image pixels.
 *
 * <pre>{@code
 * try (Detector detector = Detector.builder().modelPath(Path.of("models/tiny-fcos.onnx")).build()) {
 *     for (Detection d : detector.detect(Path.of("cat.jpg"))) {
 *         System.out.println(d.label() + " " + d.score());
 *     }
 * }
 * }</pre>
 *
 * <p>The pipeline is {@link #run}: {@link Preprocessor} (resize, normalize, pad, as the model metadata says) →
 * {@link Network} (ONNX Runtime on the CPU, or the GPU backend) → {@link PostProcessor} (the reference
 * post-processing of the configured {@link Convention}) → one list of detections per image, each sorted by
 * descending score.
 *
 * <p>Thread-safe: any number of threads may call the detect methods at once. The {@code *Async} methods run on
 * the detector's own executor ({@link Builder#asyncThreads} threads), shut down by {@link #close()}; at most
 * {@link Builder#maxPendingAsync} requests wait or run there at once, and a request beyond that fails at once
 * with {@link DetectorBusyException} (back-pressure instead of an unbounded queue). {@code close()} waits for
 * calls in flight, is idempotent, and every later call throws {@link ResourceClosedException}.
 *
 * <p>Images of one batch are padded to the batch's largest size; GroupNorm statistics cover the padded area,
 * so an image batched with larger images can score slightly differently than alone (as in mmdetection). A
 * batch of same-size images gives exactly the results of single calls.
 */
public final class Detector implements AutoCloseable {
    /** The executor token of the detector whose executor runs the current thread (close() must not wait for itself). */
    private static final ThreadLocal<Object> EXECUTOR_OWNER = new ThreadLocal<>();

    private final Network network;
    private final Preprocessor preprocessor;
    private final PostProcessor postProcessor;
    private final ModelMetadata metadata;
    private final int maxBatch;
    private final ExecutorService executor;
    private final Object executorToken = new Object();
    private final LeakTracker.Registration leakRegistration;
    // Stage counters for stats(): LongAdder, so that concurrent calls do not contend and nothing is allocated.
    private final LongAdder images = new LongAdder();
    private final LongAdder batches = new LongAdder();
    private final LongAdder failedBatches = new LongAdder();
    private final LongAdder rejectedAsync = new LongAdder();
    private final LongAdder preprocessNanos = new LongAdder();
    private final LongAdder networkNanos = new LongAdder();
    private final LongAdder postprocessNanos = new LongAdder();
    private final Semaphore pendingAsync;
    private final int maxPendingAsync;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final String name;
    private volatile boolean closed;

    private Detector(Network network, PostProcessConfig post, int maxBatch, int asyncThreads, int maxPendingAsync,
                     Function<ModelMetadata, PostProcessor> postProcessorFactory, String name) {
        this.network = network;
        this.metadata = network.metadata().withPostprocess(post);
        this.preprocessor = new Preprocessor(metadata.preprocess());
        this.postProcessor = postProcessorFactory.apply(metadata);
        // A GPU engine is built for a batch range: never hand it more than its maximum.
        this.maxBatch = Math.min(maxBatch, network.maxBatch());
        this.name = name;
        AtomicInteger ids = new AtomicInteger();
        // The threads know their detector by a token, not a reference: a detector dropped without close() must stay
        // collectable for the leak tracker to shut its threads down.
        Object token = executorToken;
        ThreadFactory threads = r -> {
            Thread t = new Thread(() -> {
                EXECUTOR_OWNER.set(token);
                r.run();
            }, "fcos4j-detector-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.executor = Executors.newFixedThreadPool(asyncThreads, threads);
        this.leakRegistration = LeakTracker.register(this, "Detector for " + name, executor::shutdownNow);
        this.maxPendingAsync = maxPendingAsync;
        this.pendingAsync = new Semaphore(maxPendingAsync);
    }

    /** A builder; {@link Builder#modelPath} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The model metadata with the post-processing actually applied (overrides included). */
    public ModelMetadata metadata() {
        return metadata;
    }

    /** The post-processing configuration in use. */
    public PostProcessConfig postProcessConfig() {
        return metadata.postprocess();
    }

    /**
     * Detects objects in an image file.
     *
     * @throws ImageDecodeException naming the file when it is missing or not a decodable image
     */
    public List<Detection> detect(Path image) {
        return detectBatch(List.of(image)).get(0);
    }

    /**
     * Detects objects in an encoded image (JPEG, PNG, ... file contents).
     *
     * @throws ImageDecodeException when the bytes are not a decodable image
     */
    public List<Detection> detect(byte[] encoded) {
        return detectBatchEncoded(List.of(encoded)).get(0);
    }

    /** Detects objects in an in-memory image. */
    public List<Detection> detect(BufferedImage image) {
        return detectBatchImages(List.of(image)).get(0);
    }

    /**
     * Detects objects in an OpenCV image: 8-bit BGR, BGRA or gray, as {@code imread} or a video capture gives it
     * (frames need no encoding round trip). The caller keeps the Mat; it is not modified.
     *
     * @throws ImageDecodeException for an empty Mat or another pixel type (names the type)
     */
    public List<Detection> detect(Mat image) {
        return detectBatchMats(List.of(image)).get(0);
    }

    /** Detects objects in OpenCV images (see {@link #detect(Mat)}); one list per image. */
    public List<List<Detection>> detectBatchMats(List<Mat> images) {
        return batched(images, preprocessor::preprocessMats);
    }

    /** Detects objects in image files, in batches of at most the builder's {@code maxBatch}; one list per file. */
    public List<List<Detection>> detectBatch(List<Path> images) {
        return batched(images, preprocessor::preprocessFiles);
    }

    /** Detects objects in encoded images; one list per image. */
    public List<List<Detection>> detectBatchEncoded(List<byte[]> images) {
        return batched(images, preprocessor::preprocessEncoded);
    }

    /** Detects objects in in-memory images; one list per image. */
    public List<List<Detection>> detectBatchImages(List<BufferedImage> images) {
        return batched(images, preprocessor::preprocessImages);
    }

    /** {@link #detect(Path)} on the detector's executor. Fails with ResourceClosedException once closed. */
    public CompletableFuture<List<Detection>> detectAsync(Path image) {
        return async(() -> detect(image));
    }

    /** {@link #detect(byte[])} on the detector's executor. */
    public CompletableFuture<List<Detection>> detectAsync(byte[] encoded) {
        return async(() -> detect(encoded));
    }

    /** {@link #detect(BufferedImage)} on the detector's executor. */
    public CompletableFuture<List<Detection>> detectAsync(BufferedImage image) {
        return async(() -> detect(image));
    }

    /** {@link #detectBatch} on the detector's executor. */
    public CompletableFuture<List<List<Detection>>> detectBatchAsync(List<Path> images) {
        return async(() -> detectBatch(images));
    }

    private <T> CompletableFuture<T> async(java.util.function.Supplier<T> task) {
        if (closed) {
            return CompletableFuture.failedFuture(closedError());
        }
        if (!pendingAsync.tryAcquire()) {
            rejectedAsync.increment();
            return CompletableFuture.failedFuture(new DetectorBusyException("detector for " + name + " already has "
                    + maxPendingAsync + " async requests pending (Detector.Builder.maxPendingAsync): retry later, "
                    + "or raise the limit or the async threads"));
        }
        try {
            CompletableFuture<T> f = CompletableFuture.supplyAsync(task, executor);
            f.whenComplete((r, e) -> pendingAsync.release());
            return f;
        } catch (RejectedExecutionException e) {
            pendingAsync.release();
            return CompletableFuture.failedFuture(closedError());
        }
    }

    private <T> List<List<Detection>> batched(List<T> inputs, Function<List<T>, ImageBatch> preprocess) {
        Objects.requireNonNull(inputs, "inputs");
        List<List<Detection>> results = new ArrayList<>(inputs.size());
        for (int start = 0; start < inputs.size(); start += maxBatch) {
            List<T> chunk = inputs.subList(start, Math.min(inputs.size(), start + maxBatch));
            results.addAll(run(chunk, preprocess));
        }
        return results;
    }

    /** The whole pipeline, in one place: preprocess → network → post-process. */
    private <T> List<List<Detection>> run(List<T> images, Function<List<T>, ImageBatch> preprocess) {
        lock.readLock().lock();
        try {
            if (closed) {
                throw closedError();
            }
            boolean ok = false;
            long t0 = System.nanoTime();
            ImageBatch batch = null;
            try {
                batch = preprocess.apply(images);
                long t1 = System.nanoTime();
                preprocessNanos.add(t1 - t0);
                try (NetworkOutput out = network.run(batch)) {
                    long t2 = System.nanoTime();
                    networkNanos.add(t2 - t1);
                    List<List<Detection>> result = postProcessor.process(out.heads(), batch.metas());
                    postprocessNanos.add(System.nanoTime() - t2);
                    this.images.add(result.size());
                    batches.increment();
                    ok = true;
                    return result;
                }
            } finally {
                if (!ok) {
                    failedBatches.increment();
                }
                // The network has consumed the input: its buffer serves the next call.
                preprocessor.release(batch);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Counts and per-stage times since this detector was built (a snapshot; cheap, allocation aside). */
    public DetectorStats stats() {
        return new DetectorStats(images.sum(), batches.sum(), failedBatches.sum(), rejectedAsync.sum(),
                preprocessNanos.sum(), networkNanos.sum(), postprocessNanos.sum());
    }

    private ResourceClosedException closedError() {
        return new ResourceClosedException("detector for " + name + " is closed");
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Stops the executor (queued async calls fail with {@link ResourceClosedException}), waits for calls in
     * flight, then releases the network. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        leakRegistration.closed();
        executor.shutdown();
        if (EXECUTOR_OWNER.get() != executorToken) {
            try {
                executor.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lock.writeLock().lock();
        try {
            try {
                postProcessor.close();
            } finally {
                try {
                    preprocessor.close();
                } finally {
                    network.close();
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "Detector[" + name + ", " + metadata.postprocess().convention().id() + (closed ? ", closed" : "") + "]";
    }

    /** Configures and opens a {@link Detector}. Options left unset come from the model metadata. */
    public static final class Builder {
        private Path modelPath;
        private Backend backend = Backend.CPU;
        private Convention convention;
        private Float scoreThreshold;
        private Integer nmsPre;
        private Float iouThreshold;
        private Integer maxDetections;
        private int intraOpThreads;
        private int asyncThreads = 1;
        private int maxPendingAsync = 256;
        private int maxBatch = 8;
        private final Map<String, String> backendOptions = new LinkedHashMap<>();
        private int postprocessThreads = 1;
        /** Null: the reference post-processing with {@link #postprocessThreads}. */
        private Function<ModelMetadata, PostProcessor> postProcessorFactory;

        private Builder() {
        }

        /** The contract model (ONNX for the CPU backend). Required. */
        public Builder modelPath(Path value) {
            this.modelPath = value;
            return this;
        }

        /** Where to run the network; {@link Backend#CPU} by default. */
        public Builder backend(Backend value) {
            this.backend = Objects.requireNonNull(value, "backend");
            return this;
        }

        /**
         * Post-processing convention, instead of the model's. When it differs from the model's, the thresholds
         * not set on this builder become that convention's defaults.
         */
        public Builder convention(Convention value) {
            this.convention = Objects.requireNonNull(value, "convention");
            return this;
        }

        /**
         * Convention by name: mmdet, fcos or torchvision.
         *
         * @throws ConfigurationException for any other name
         */
        public Builder convention(String value) {
            return convention(Convention.parse(value));
        }

        /** Candidate score threshold. */
        public Builder scoreThreshold(float value) {
            this.scoreThreshold = value;
            return this;
        }

        /** Candidates kept per level before NMS. */
        public Builder nmsPre(int value) {
            this.nmsPre = value;
            return this;
        }

        /** NMS IoU threshold. */
        public Builder iouThreshold(float value) {
            this.iouThreshold = value;
            return this;
        }

        /** Detections kept per image. */
        public Builder maxDetections(int value) {
            this.maxDetections = value;
            return this;
        }

        /** ONNX Runtime intra-op threads; 0 (the default) = all available processors. */
        public Builder intraOpThreads(int value) {
            if (value < 0) {
                throw new ConfigurationException("intra-op threads must be 0 (all cores) or positive, got " + value);
            }
            this.intraOpThreads = value;
            return this;
        }

        /** Threads of the executor behind the {@code *Async} methods (default 1). */
        public Builder asyncThreads(int value) {
            if (value < 1) {
                throw new ConfigurationException("async threads must be at least 1, got " + value);
            }
            this.asyncThreads = value;
            return this;
        }

        /**
         * Most {@code *Async} requests waiting or running at once (default 256); one more fails at once with
         * {@link DetectorBusyException}. Bounds the memory a caller faster than the detector can pile up.
         */
        public Builder maxPendingAsync(int value) {
            if (value < 1) {
                throw new ConfigurationException("max pending async requests must be at least 1, got " + value);
            }
            this.maxPendingAsync = value;
            return this;
        }

        /**
         * Threads that share the images of one batch in post-processing, the calling thread included (default 1).
         * Worth raising when batches are large and the network runs elsewhere (a GPU); on the CPU backend the
         * network already uses every core. Results do not depend on it.
         */
        public Builder postprocessThreads(int value) {
            if (value < 1) {
                throw new ConfigurationException("post-processing threads must be at least 1, got " + value);
            }
            this.postprocessThreads = value;
            return this;
        }

        /** Largest number of images run through the network at once by the batch methods (default 8). */
        public Builder maxBatch(int value) {
            if (value < 1) {
                throw new ConfigurationException("max batch must be at least 1, got " + value);
            }
            this.maxBatch = value;
            return this;
        }

        /**
         * A backend-specific option, passed to the GPU backend's {@link NetworkFactory}; ignored by CPU. For
         * {@link Backend#GPU_TENSORRT}: {@code precision} (fp32, fp16), {@code engine_cache} (a directory),
         * {@code max_batch}, {@code max_height}, {@code max_width}, {@code device}, {@code contexts}
         * (docs/TENSORRT-JAVA.md). Unknown keys fail when the detector is built.
         */
        public Builder backendOption(String key, String value) {
            backendOptions.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
            return this;
        }

        /** For tests of the plumbing only: replaces the reference post-processing. */
        Builder postProcessorFactory(Function<ModelMetadata, PostProcessor> value) {
            this.postProcessorFactory = Objects.requireNonNull(value);
            return this;
        }

        /**
         * Loads the model and opens the detector.
         *
         * @throws ConfigurationException  no model path, a bad option, or the model file is missing
         * @throws ModelContractException  the model is not a loadable contract model (names the file and problems)
         * @throws NativeLibraryException  the backend's native library failed or is absent
         */
        public Detector build() {
            if (modelPath == null) {
                throw new ConfigurationException("a model path is required (Detector.builder().modelPath(...))");
            }
            Network network = openNetwork();
            try {
                PostProcessConfig post = resolvePostProcess(network.metadata().postprocess());
                int threads = postprocessThreads;
                Function<ModelMetadata, PostProcessor> factory = postProcessorFactory != null ? postProcessorFactory
                        : m -> new ReferencePostProcessor(m.postprocess(), m.classNames(), threads);
                return new Detector(network, post, maxBatch, asyncThreads, maxPendingAsync, factory,
                        modelPath.toString());
            } catch (RuntimeException e) {
                network.close();
                throw e;
            }
        }

        private Network openNetwork() {
            if (backend == Backend.CPU) {
                return OnnxRuntimeNetwork.load(modelPath, new OnnxRuntimeNetwork.Options(intraOpThreads));
            }
            // Only here are other backends' classes looked up, so a CPU detector never loads them.
            for (NetworkFactory f : ServiceLoader.load(NetworkFactory.class)) {
                if (f.backend() == backend) {
                    return f.open(modelPath, Map.copyOf(backendOptions));
                }
            }
            throw new BackendUnavailableException("no " + backend + " backend is on the class path (add the "
                    + "fcos4j-tensorrt module, which provides it)");
        }

        private PostProcessConfig resolvePostProcess(PostProcessConfig fromModel) {
            PostProcessConfig post = fromModel;
            if (convention != null && convention != fromModel.convention()) {
                post = PostProcessConfig.defaults(convention);
            }
            if (scoreThreshold != null) {
                post = post.withScoreThreshold(scoreThreshold);
            }
            if (nmsPre != null) {
                post = post.withNmsPre(nmsPre);
            }
            if (iouThreshold != null) {
                post = post.withIouThreshold(iouThreshold);
            }
            if (maxDetections != null) {
                post = post.withMaxDetections(maxDetections);
            }
            return post;
        }
    }
}
