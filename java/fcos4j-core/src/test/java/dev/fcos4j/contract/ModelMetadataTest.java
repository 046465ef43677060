package dev.fcos4j.contract;

import dev.fcos4j.ModelContractException;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.preprocess.PreprocessConfig.ChannelOrder;
import dev.fcos4j.preprocess.PreprocessConfig.ResizePolicy;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelMetadataTest {
    /** The torchvision example of engines/CONTRACT.md, key by key. */
    static Map<String, String> torchvisionExample() {
        Map<String, String> m = new HashMap<>();
        m.put("fcos4j.contract_version", "1");
        m.put("fcos4j.model_name", "fcos_resnet50_fpn");
        m.put("fcos4j.strides", "8,16,32,64,128");
        m.put("fcos4j.class_names", "[\"__background__\",\"person\",\"bicycle\"]");
        m.put("fcos4j.num_classes", "3");
        m.put("fcos4j.channel_order", "RGB");
        m.put("fcos4j.input_scale", "255");
        m.put("fcos4j.mean", "0.485,0.456,0.406");
        m.put("fcos4j.std", "0.229,0.224,0.225");
        m.put("fcos4j.resize_policy", "torchvision");
        m.put("fcos4j.resize_scale", "1333,800");
        m.put("fcos4j.size_divisor", "32");
        m.put("fcos4j.convention", "torchvision");
        m.put("fcos4j.score_threshold", "0.2");
        m.put("fcos4j.nms_pre", "1000");
        m.put("fcos4j.iou_threshold", "0.6");
        m.put("fcos4j.max_detections", "100");
        return m;
    }

    @Test
    void readsEveryKey() {
        ModelMetadata m = ModelMetadata.fromProperties(torchvisionExample());
        assertEquals("fcos_resnet50_fpn", m.modelName());
        assertEquals(List.of(8, 16, 32, 64, 128), m.strides());
        assertEquals(List.of("__background__", "person", "bicycle"), m.classNames());
        assertEquals(3, m.numClasses());
        assertEquals(ChannelOrder.RGB, m.preprocess().channelOrder());
        assertEquals(255f, m.preprocess().inputScale());
        assertArrayEquals(new float[] {0.485f, 0.456f, 0.406f}, m.preprocess().mean());
        assertArrayEquals(new float[] {0.229f, 0.224f, 0.225f}, m.preprocess().std());
        assertEquals(ResizePolicy.TORCHVISION, m.preprocess().resizePolicy());
        assertEquals(1333, m.preprocess().maxLongSide());
        assertEquals(800, m.preprocess().maxShortSide());
        assertEquals(32, m.preprocess().sizeDivisor());
        assertEquals(Convention.TORCHVISION, m.postprocess().convention());
        assertEquals(0.2f, m.postprocess().scoreThreshold());
        assertEquals(1000, m.postprocess().nmsPre());
        assertEquals(0.6f, m.postprocess().iouThreshold());
        assertEquals(100, m.postprocess().maxDetections());
        assertEquals("person", m.label(1));
    }

    @Test
    void writesWhatItReads() {
        Map<String, String> in = torchvisionExample();
        Map<String, String> out = ModelMetadata.fromProperties(in).toProperties();
        assertEquals(in, out);
    }

    @Test
    void absentKeysTakeTheMmdetCaffeDefaults() {
        ModelMetadata m = ModelMetadata.fromProperties(Map.of());
        assertEquals("fcos", m.modelName());
        assertEquals(List.of(8, 16, 32, 64, 128), m.strides());
        assertEquals(List.of(), m.classNames());
        assertEquals(0, m.numClasses());
        assertEquals(ChannelOrder.BGR, m.preprocess().channelOrder());
        assertEquals(1f, m.preprocess().inputScale());
        assertArrayEquals(new float[] {102.9801f, 115.9465f, 122.7717f}, m.preprocess().mean());
        assertArrayEquals(new float[] {1f, 1f, 1f}, m.preprocess().std());
        assertEquals(ResizePolicy.MMDET, m.preprocess().resizePolicy());
        assertEquals(Convention.MMDET, m.postprocess().convention());
        assertEquals(0.05f, m.postprocess().scoreThreshold());
        assertEquals(0.5f, m.postprocess().iouThreshold());
        assertEquals("class_7", m.label(7));
        // a convention without thresholds takes that convention's defaults
        ModelMetadata fcos = ModelMetadata.fromProperties(Map.of("fcos4j.convention", "FCOS"));
        assertEquals(0.6f, fcos.postprocess().iouThreshold());
    }

    @Test
    void resizeScaleMayBeGivenShortSideFirst() {
        ModelMetadata m = ModelMetadata.fromProperties(Map.of("fcos4j.resize_scale", "800,1333"));
        assertEquals(1333, m.preprocess().maxLongSide());
        assertEquals(800, m.preprocess().maxShortSide());
    }

    @Test
    void badValuesNameTheirKey() {
        assertBad("fcos4j.contract_version", "2", "contract version");
        assertBad("fcos4j.strides", "8,16,x", "comma-separated positive integers");
        assertBad("fcos4j.strides", "8,-16", "comma-separated positive integers");
        assertBad("fcos4j.class_names", "[\"a\",", "JSON array of strings");
        assertBad("fcos4j.class_names", "{\"a\":1}", "JSON array of strings");
        assertBad("fcos4j.num_classes", "zero", "positive integer");
        assertBad("fcos4j.channel_order", "BRG", "BGR or RGB");
        assertBad("fcos4j.input_scale", "NaN", "finite number");
        assertBad("fcos4j.mean", "1,2", "3 comma-separated");
        assertBad("fcos4j.std", "1,0,1", "std values must be positive");
        assertBad("fcos4j.resize_policy", "bicubic", "mmdet, torchvision or none");
        assertBad("fcos4j.resize_scale", "1333", "2 comma-separated");
        assertBad("fcos4j.size_divisor", "0", "positive integer");
        assertBad("fcos4j.convention", "yolo", "unknown post-processing convention 'yolo'");
        assertBad("fcos4j.score_threshold", "1.5", "score threshold");
        assertBad("fcos4j.nms_pre", "1e3", "positive integer");
        assertBad("fcos4j.iou_threshold", "-0.1", "IoU threshold");
        assertBad("fcos4j.max_detections", "-5", "positive integer");
    }

    @Test
    void classNamesAndCountMustAgree() {
        Map<String, String> m = new HashMap<>(torchvisionExample());
        m.put("fcos4j.num_classes", "80");
        ModelContractException e = assertThrows(ModelContractException.class, () -> ModelMetadata.fromProperties(m));
        assertTrue(e.getMessage().contains("fcos4j.num_classes") && e.getMessage().contains("fcos4j.class_names"),
                e.getMessage());
    }

    private static void assertBad(String key, String value, String expected) {
        Map<String, String> m = new HashMap<>(torchvisionExample());
        m.put(key, value);
        ModelContractException e = assertThrows(ModelContractException.class, () -> ModelMetadata.fromProperties(m),
                key + "=" + value);
        String msg = e.getMessage();
        assertTrue(msg.contains(key) || (key.equals("fcos4j.std") && msg.contains("fcos4j.std")),
                "message names " + key + ": " + msg);
        assertTrue(msg.contains(expected), "message says '" + expected + "': " + msg);
    }
}
