package dev.fcos4j.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.fcos4j.ConfigurationException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.ResourceClosedException;
import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.ModelContract;
import dev.fcos4j.contract.NetworkOutput;
import dev.fcos4j.model.TinyFcosModel;
import dev.fcos4j.model.TinyFcosModel.Defect;
import dev.fcos4j.model.TinyFcosModel.Spec;
import dev.fcos4j.preprocess.ImageBatch;
import dev.fcos4j.preprocess.ImageMeta;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxRuntimeNetworkTest {
    @TempDir
    static Path dir;
    static Path model;
    private int sessionsBefore;
    private int outputsBefore;
    private int tensorsBefore;

    @BeforeAll
    static void generate() {
        model = dir.resolve("tiny.onnx");
        TinyFcosModel.generate(model, 7, 5);
    }

    @BeforeEach
    void countBefore() {
        sessionsBefore = OnnxRuntimeNetwork.openSessions();
        outputsBefore = OnnxRuntimeNetwork.openOutputs();
        tensorsBefore = OnnxRuntimeNetwork.openTensors();
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(sessionsBefore, OnnxRuntimeNetwork.openSessions(), "ONNX Runtime sessions left open");
        assertEquals(outputsBefore, OnnxRuntimeNetwork.openOutputs(), "network outputs left open");
        assertEquals(tensorsBefore, OnnxRuntimeNetwork.openTensors(), "ONNX Runtime tensors left open");
    }

    static ImageBatch randomBatch(int n, int h, int w, long seed) {
        Random r = new Random(seed);
        FloatBuffer data = FloatBuffer.allocate(n * 3 * h * w);
        for (int i = 0; i < data.capacity(); i++) {
            data.put(i, (float) (r.nextGaussian() * 60));
        }
        List<ImageMeta> metas = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            metas.add(ImageMeta.unscaled(h, w));
        }
        return new ImageBatch(data, h, w, metas);
    }

    @Test
    void loadsTheTinyModelAndReadsItsMetadata() {
        try (OnnxRuntimeNetwork net = OnnxRuntimeNetwork.load(model, new OnnxRuntimeNetwork.Options(1))) {
            assertEquals(5, net.metadata().numClasses());
            assertEquals(List.of("person", "bicycle", "car", "motorcycle", "airplane"), net.metadata().classNames());
            assertEquals(List.of(8, 16, 32, 64, 128), net.metadata().strides());
            assertEquals(model, net.modelPath());
        }
    }

    @Test
    void outputShapesFollowTheContractForSeveralSizesAndBatches() {
        // {batch, H, W, then the expected H_l, W_l of the five levels computed by hand}
        int[][] cases = {
                {1, 64, 96, 8, 12, 4, 6, 2, 3, 1, 2, 1, 1},
                {2, 128, 32, 16, 4, 8, 2, 4, 1, 2, 1, 1, 1},
                {3, 96, 160, 12, 20, 6, 10, 3, 5, 2, 3, 1, 2},
        };
        try (OnnxRuntimeNetwork net = OnnxRuntimeNetwork.load(model, new OnnxRuntimeNetwork.Options(2))) {
            for (int[] c : cases) {
                try (NetworkOutput out = net.run(randomBatch(c[0], c[1], c[2], 1))) {
                    HeadTensors h = out.heads();
                    assertEquals(c[0], h.batch());
                    assertEquals(5, h.numClasses());
                    for (int l = 0; l < 5; l++) {
                        assertEquals(c[3 + 2 * l], h.level(l).height(), "H of level " + l);
                        assertEquals(c[4 + 2 * l], h.level(l).width(), "W of level " + l);
                        assertEquals(8 << l, h.level(l).stride());
                        // exp(..) * stride is positive and finite
                        FloatBuffer reg = h.reg(l);
                        for (int i = 0; i < reg.capacity(); i++) {
                            float v = reg.get(i);
                            assertTrue(v > 0 && Float.isFinite(v), "reg_" + l + "[" + i + "] = " + v);
                        }
                    }
                }
            }
        }
    }

    /** The pinned-output path gives exactly what an ordinary ONNX Runtime run returns. */
    @Test
    void pinnedOutputsEqualAnOrdinaryRun() throws Exception {
        ImageBatch batch = randomBatch(2, 64, 64, 3);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxRuntimeNetwork net = OnnxRuntimeNetwork.load(model, new OnnxRuntimeNetwork.Options(1));
             NetworkOutput out = net.run(batch);
             OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(1);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession plain = env.createSession(model.toString(), so);
                 OnnxTensor in = OnnxTensor.createTensor(env, batch.data().duplicate().clear(), new long[] {2, 3, 64, 64});
                 OrtSession.Result r = plain.run(Map.of("images", in))) {
                HeadTensors h = out.heads();
                for (int l = 0; l < 5; l++) {
                    assertBuffersEqual(((OnnxTensor) r.get(ModelContract.clsName(l)).get()).getFloatBuffer(), h.cls(l));
                    assertBuffersEqual(((OnnxTensor) r.get(ModelContract.regName(l)).get()).getFloatBuffer(), h.reg(l));
                    assertBuffersEqual(((OnnxTensor) r.get(ModelContract.ctrName(l)).get()).getFloatBuffer(), h.ctr(l));
                }
            }
        }
    }

    private static void assertBuffersEqual(FloatBuffer expected, FloatBuffer actual) {
        assertEquals(expected.remaining(), actual.capacity());
        for (int i = 0; i < actual.capacity(); i++) {
            assertEquals(expected.get(i), actual.get(i), "index " + i);
        }
    }

    @Test
    void batchedRunEqualsSingleRuns() {
        ImageBatch both = randomBatch(2, 64, 96, 11);
        int per = 3 * 64 * 96;
        try (OnnxRuntimeNetwork net = OnnxRuntimeNetwork.load(model, new OnnxRuntimeNetwork.Options(1));
             NetworkOutput all = net.run(both)) {
            for (int img = 0; img < 2; img++) {
                FloatBuffer one = FloatBuffer.allocate(per);
                for (int i = 0; i < per; i++) {
                    one.put(i, both.data().get(img * per + i));
                }
                try (NetworkOutput single = net.run(new ImageBatch(one, 64, 96, List.of(ImageMeta.unscaled(64, 96))))) {
                    for (int l = 0; l < 5; l++) {
                        FloatBuffer a = all.heads().cls(l);
                        FloatBuffer s = single.heads().cls(l);
                        int n = s.capacity();
                        for (int i = 0; i < n; i++) {
                            assertEquals(s.get(i), a.get(img * n + i), 1e-4f, "cls_" + l + " image " + img + " at " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void everyContractViolationIsListedInOneMessage() {
        assertContractError(Defect.MISSING_LEVEL, "'cls_4' (level 4, stride 128) is missing", "'reg_4'", "'ctr_4'");
        assertContractError(Defect.WRONG_CHANNELS, "'reg_1' has 5 channels");
        assertContractError(Defect.WRONG_RANK, "'ctr_2' has rank 2");
        assertContractError(Defect.WRONG_DTYPE, "'reg_0' is float64");
        assertContractError(Defect.WRONG_INPUT_NAME, "input 'images' is missing", "input 'input' is not part");
        assertContractError(Defect.CLASS_COUNT_MISMATCH, "'cls_0' has 5 channels", "metadata says 6 classes",
                "'cls_4' has 5 channels");
    }

    private void assertContractError(Defect defect, String... parts) {
        Path bad = dir.resolve(defect + ".onnx");
        TinyFcosModel.generate(bad, Spec.of(1, 5).withDefect(defect));
        ModelContractException e = assertThrows(ModelContractException.class, () -> OnnxRuntimeNetwork.load(bad));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), defect + ": expected '" + p + "' in: " + e.getMessage());
        }
    }

    @Test
    void outputsOfOtherSizesThanTheStridesSayAreAContractError() {
        Path bad = dir.resolve("strides.onnx");
        TinyFcosModel.generate(bad, Spec.of(1, 5).withDefect(Defect.WRONG_STRIDES));
        try (OnnxRuntimeNetwork net = OnnxRuntimeNetwork.load(bad, new OnnxRuntimeNetwork.Options(1))) {
            // 256 x 256: P7 of the graph is 2 x 2, the strides say 1 x 1.
            ModelContractException e = assertThrows(ModelContractException.class,
                    () -> net.run(randomBatch(1, 256, 256, 2)));
            assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("32x32, 16x16, 8x8, 4x4, 1x1"), e.getMessage());
        }
    }

    @Test
    void aFixedInputSizeModelRunsThatSizeAndNamesTheInputOtherwise() {
        Path fixed = dir.resolve("fixed.onnx");
        TinyFcosModel.generate(fixed, Spec.of(1, 5).withDefect(Defect.FIXED_INPUT_SIZE));
        try (OnnxRuntimeNetwork net = OnnxRuntimeNetwork.load(fixed, new OnnxRuntimeNetwork.Options(1))) {
            try (NetworkOutput out = net.run(randomBatch(1, 64, 64, 1))) {
                assertEquals(8, out.heads().level(0).height());
            }
            ModelContractException e = assertThrows(ModelContractException.class,
                    () -> net.run(randomBatch(1, 96, 64, 1)));
            assertTrue(e.getMessage().contains(fixed.toString()) && e.getMessage().contains("'images'"),
                    e.getMessage());
        }
    }

    @Test
    void bigEndianDirectInputGivesTheSameOutputs() {
        ImageBatch heap = randomBatch(1, 64, 64, 8);
        FloatBuffer big = java.nio.ByteBuffer.allocateDirect(heap.data().capacity() * 4)
                .order(java.nio.ByteOrder.BIG_ENDIAN).asFloatBuffer();
        big.put(heap.data().duplicate().clear()).clear();
        try (OnnxRuntimeNetwork net = OnnxRuntimeNetwork.load(model, new OnnxRuntimeNetwork.Options(1));
             NetworkOutput a = net.run(heap);
             NetworkOutput b = net.run(new ImageBatch(big, 64, 64, heap.metas()))) {
            for (int l = 0; l < 5; l++) {
                assertBuffersEqual(a.heads().cls(l), b.heads().cls(l));
            }
        }
    }

    @Test
    void missingFileNamesTheFile() {
        Path missing = dir.resolve("nope.onnx");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> OnnxRuntimeNetwork.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void notAnOnnxFileNamesTheFile() throws Exception {
        Path text = dir.resolve("text.onnx");
        Files.writeString(text, "this is not a protobuf model\n");
        ModelContractException e = assertThrows(ModelContractException.class, () -> OnnxRuntimeNetwork.load(text));
        assertTrue(e.getMessage().contains(text.toString()), e.getMessage());
        Path empty = dir.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        e = assertThrows(ModelContractException.class, () -> OnnxRuntimeNetwork.load(empty));
        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
    }

    @Test
    void closeIsIdempotentAndRunAfterCloseThrows() {
        OnnxRuntimeNetwork net = OnnxRuntimeNetwork.load(model, new OnnxRuntimeNetwork.Options(1));
        NetworkOutput out = net.run(randomBatch(1, 32, 32, 5));
        // the 15 bound outputs stay open with the output, the input tensor is already closed
        assertEquals(tensorsBefore + 15, OnnxRuntimeNetwork.openTensors());
        net.close();
        net.close();
        assertTrue(net.isClosed());
        // outputs taken before close stay readable until they are closed themselves
        assertTrue(out.heads().cls(0).capacity() > 0);
        out.close();
        out.close();
        assertThrows(ResourceClosedException.class, out::heads);
        ResourceClosedException e = assertThrows(ResourceClosedException.class,
                () -> net.run(randomBatch(1, 32, 32, 5)));
        assertTrue(e.getMessage().contains(model.toString()), e.getMessage());
        assertFalse(e.getMessage().isEmpty());
    }

    @Test
    void aModelWithTheTensorRtPostProcessingNodeIsRejectedWithAnExplanation() {
        // What embed_detect.py produces, reduced to its shape: images -> ... -> FcosDetect (domain fcos4j).
        OnnxModelWriter w = new OnnxModelWriter(17, "test", "embedded");
        w.input("images", OnnxModelWriter.FLOAT, "N", 3, "H", "W");
        w.input("image_info", OnnxModelWriter.FLOAT, "N", 4);
        w.node("fcos4j", "FcosDetect", List.of("images", "image_info"),
                List.of("num_detections", "boxes", "scores", "classes"),
                OnnxModelWriter.Attribute.ofString("plugin_namespace", "fcos4j"),
                OnnxModelWriter.Attribute.ofString("plugin_version", "1"));
        w.output("num_detections", OnnxModelWriter.INT32, "N");
        w.output("boxes", OnnxModelWriter.FLOAT, "N", 100, 4);
        w.output("scores", OnnxModelWriter.FLOAT, "N", 100);
        w.output("classes", OnnxModelWriter.INT32, "N", 100);
        Path file = dir.resolve("with_plugin.onnx");
        w.write(file);
        ModelContractException e = assertThrows(ModelContractException.class, () -> OnnxRuntimeNetwork.load(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("FcosDetect"), e.getMessage());
        assertTrue(e.getMessage().contains("runs only in TensorRT"), e.getMessage());
    }

    @Test
    void aModelWithTensorRtsDeformableConvolutionIsRejectedWithAnExplanation() {
        OnnxModelWriter w = new OnnxModelWriter(17, "test", "dcn");
        w.input("images", OnnxModelWriter.FLOAT, 1, 3, 8, 8);
        w.initializer("offset", new long[] {1, 18, 8, 8}, new float[18 * 64]);
        w.initializer("mask", new long[] {1, 9, 8, 8}, new float[9 * 64]);
        w.initializer("weight", new long[] {4, 3, 3, 3}, new float[4 * 27]);
        w.node("trt", "ModulatedDeformConv2d", List.of("images", "offset", "mask", "weight"), List.of("y"),
                OnnxModelWriter.Attribute.ofInts("padding", 1, 1));
        w.output("y", OnnxModelWriter.FLOAT, 1, 4, 8, 8);
        Path file = dir.resolve("dcn.onnx");
        w.write(file);
        ModelContractException e = assertThrows(ModelContractException.class, () -> OnnxRuntimeNetwork.load(file));
        assertTrue(e.getMessage().contains("ModulatedDeformConv2d"), e.getMessage());
        assertTrue(e.getMessage().contains("DCN"), e.getMessage());
    }
}
