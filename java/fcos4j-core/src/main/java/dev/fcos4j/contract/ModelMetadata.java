package dev.fcos4j.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fcos4j.ConfigurationException;
import dev.fcos4j.ModelContractException;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.preprocess.PreprocessConfig;
import dev.fcos4j.preprocess.PreprocessConfig.ChannelOrder;
import dev.fcos4j.preprocess.PreprocessConfig.ResizePolicy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a contract model says about itself in its ONNX {@code metadata_props} (engines/CONTRACT.md): FPN strides,
 * class names, how to preprocess its input and how to post-process its head outputs.
 *
 * <p>Keys that are absent take these defaults (an mmdetection caffe-style FCOS):
 * <ul>
 *   <li>{@code fcos4j.contract_version}: "1" (any other value is rejected)</li>
 *   <li>{@code fcos4j.model_name}: "fcos"</li>
 *   <li>{@code fcos4j.strides}: "8,16,32,64,128"</li>
 *   <li>{@code fcos4j.class_names}: none (labels are then "class_N"); {@code fcos4j.num_classes}: the number of
 *       class names, or 0 = unknown when both are absent (taken from the {@code cls_0} tensor by
 *       {@link ModelContract})</li>
 *   <li>{@code fcos4j.channel_order}, {@code input_scale}, {@code mean}, {@code std}, {@code resize_policy},
 *       {@code resize_scale}, {@code size_divisor}: those of {@link PreprocessConfig#mmdetCaffe()}</li>
 *   <li>{@code fcos4j.convention}: "mmdet"; {@code score_threshold}, {@code nms_pre}, {@code iou_threshold},
 *       {@code max_detections}: {@link PostProcessConfig#defaults(Convention)} of that convention</li>
 * </ul>
 *
 * @param modelName   a human-readable model name
 * @param strides     stride of each FPN level, in level order (one cls/reg/ctr triple per stride)
 * @param classNames  label of each class id (empty when the model has none)
 * @param numClasses  number of classes C, 0 when unknown (no names and no {@code num_classes} key)
 * @param preprocess  how images become the {@code images} input
 * @param postprocess convention and thresholds of post-processing
 */
public record ModelMetadata(String modelName, List<Integer> strides, List<String> classNames, int numClasses,
                            PreprocessConfig preprocess, PostProcessConfig postprocess) {

    /** The contract version this library reads and writes. */
    public static final String CONTRACT_VERSION = "1";

    public static final String KEY_CONTRACT_VERSION = "fcos4j.contract_version";
    public static final String KEY_MODEL_NAME = "fcos4j.model_name";
    public static final String KEY_STRIDES = "fcos4j.strides";
    public static final String KEY_CLASS_NAMES = "fcos4j.class_names";
    public static final String KEY_NUM_CLASSES = "fcos4j.num_classes";
    public static final String KEY_CHANNEL_ORDER = "fcos4j.channel_order";
    public static final String KEY_INPUT_SCALE = "fcos4j.input_scale";
    public static final String KEY_MEAN = "fcos4j.mean";
    public static final String KEY_STD = "fcos4j.std";
    public static final String KEY_RESIZE_POLICY = "fcos4j.resize_policy";
    public static final String KEY_RESIZE_SCALE = "fcos4j.resize_scale";
    public static final String KEY_SIZE_DIVISOR = "fcos4j.size_divisor";
    public static final String KEY_CONVENTION = "fcos4j.convention";
    public static final String KEY_SCORE_THRESHOLD = "fcos4j.score_threshold";
    public static final String KEY_NMS_PRE = "fcos4j.nms_pre";
    public static final String KEY_IOU_THRESHOLD = "fcos4j.iou_threshold";
    public static final String KEY_MAX_DETECTIONS = "fcos4j.max_detections";

    /** The FCOS strides of P3..P7. */
    public static final List<Integer> DEFAULT_STRIDES = List.of(8, 16, 32, 64, 128);

    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelMetadata {
        if (modelName == null || modelName.isBlank()) {
            throw new ConfigurationException("model name must not be empty");
        }
        strides = List.copyOf(strides);
        classNames = List.copyOf(classNames);
        if (strides.isEmpty()) {
            throw new ConfigurationException("at least one FPN stride is needed");
        }
        for (int s : strides) {
            if (s <= 0) {
                throw new ConfigurationException("strides must be positive, got " + strides);
            }
        }
        if (numClasses < 0) {
            throw new ConfigurationException("number of classes must not be negative, got " + numClasses);
        }
        if (!classNames.isEmpty() && classNames.size() != numClasses) {
            throw new ConfigurationException(classNames.size() + " class names for " + numClasses + " classes");
        }
        if (preprocess == null || postprocess == null) {
            throw new ConfigurationException("preprocess and postprocess configurations must not be null");
        }
    }

    /** The label of a class id: its name, or "class_N" when the model has no names. */
    public String label(int classId) {
        return classId >= 0 && classId < classNames.size() ? classNames.get(classId) : "class_" + classId;
    }

    /** A copy with the number of classes set (used once the cls tensors revealed it); names must agree. */
    public ModelMetadata withNumClasses(int value) {
        return new ModelMetadata(modelName, strides, classNames, value, preprocess, postprocess);
    }

    /** A copy with another post-processing configuration. */
    public ModelMetadata withPostprocess(PostProcessConfig value) {
        return new ModelMetadata(modelName, strides, classNames, numClasses, preprocess, value);
    }

    /**
     * Reads the metadata of a contract model.
     *
     * @param props the model's {@code metadata_props}; keys outside {@code fcos4j.*} are ignored
     * @throws ModelContractException naming the key whose value is malformed or inconsistent
     */
    public static ModelMetadata fromProperties(Map<String, String> props) {
        Reader r = new Reader(props);
        String version = r.raw(KEY_CONTRACT_VERSION);
        if (version != null && !version.trim().equals(CONTRACT_VERSION)) {
            throw new ModelContractException("model metadata " + KEY_CONTRACT_VERSION + " is '" + version
                    + "', this fcos4j reads contract version " + CONTRACT_VERSION);
        }
        String name = r.raw(KEY_MODEL_NAME);
        if (name == null || name.isBlank()) {
            name = "fcos";
        }
        List<Integer> strides = r.has(KEY_STRIDES) ? r.positiveInts(KEY_STRIDES, -1) : DEFAULT_STRIDES;

        List<String> names = List.of();
        if (r.has(KEY_CLASS_NAMES)) {
            try {
                names = JSON.readValue(r.raw(KEY_CLASS_NAMES), new TypeReference<List<String>>() { });
            } catch (JsonProcessingException e) {
                throw new ModelContractException("model metadata " + KEY_CLASS_NAMES
                        + " must be a JSON array of strings: " + e.getOriginalMessage(), e);
            }
            if (names == null || names.contains(null)) {
                throw new ModelContractException("model metadata " + KEY_CLASS_NAMES
                        + " must be a JSON array of strings, got " + r.raw(KEY_CLASS_NAMES));
            }
        }
        int numClasses = names.size();
        if (r.has(KEY_NUM_CLASSES)) {
            numClasses = r.positiveInts(KEY_NUM_CLASSES, 1).get(0);
            if (!names.isEmpty() && names.size() != numClasses) {
                throw new ModelContractException("model metadata " + KEY_NUM_CLASSES + " is " + numClasses + " but "
                        + KEY_CLASS_NAMES + " has " + names.size() + " names");
            }
        }

        PreprocessConfig d = PreprocessConfig.mmdetCaffe();
        ChannelOrder order = d.channelOrder();
        if (r.has(KEY_CHANNEL_ORDER)) {
            String v = r.raw(KEY_CHANNEL_ORDER).trim().toUpperCase(Locale.ROOT);
            if (!v.equals("BGR") && !v.equals("RGB")) {
                throw r.bad(KEY_CHANNEL_ORDER, "BGR or RGB");
            }
            order = ChannelOrder.valueOf(v);
        }
        float inputScale = r.has(KEY_INPUT_SCALE) ? r.floats(KEY_INPUT_SCALE, 1)[0] : d.inputScale();
        float[] mean = r.has(KEY_MEAN) ? r.floats(KEY_MEAN, 3) : d.mean();
        float[] std = r.has(KEY_STD) ? r.floats(KEY_STD, 3) : d.std();
        ResizePolicy policy = d.resizePolicy();
        if (r.has(KEY_RESIZE_POLICY)) {
            String v = r.raw(KEY_RESIZE_POLICY).trim().toLowerCase(Locale.ROOT);
            policy = switch (v) {
                case "mmdet" -> ResizePolicy.MMDET;
                case "torchvision" -> ResizePolicy.TORCHVISION;
                case "none" -> ResizePolicy.NONE;
                default -> throw r.bad(KEY_RESIZE_POLICY, "mmdet, torchvision or none");
            };
        }
        int longSide = d.maxLongSide();
        int shortSide = d.maxShortSide();
        if (r.has(KEY_RESIZE_SCALE)) {
            List<Integer> scale = r.positiveInts(KEY_RESIZE_SCALE, 2);
            longSide = Math.max(scale.get(0), scale.get(1));
            shortSide = Math.min(scale.get(0), scale.get(1));
        }
        int divisor = r.has(KEY_SIZE_DIVISOR) ? r.positiveInts(KEY_SIZE_DIVISOR, 1).get(0) : d.sizeDivisor();
        PreprocessConfig pre;
        try {
            pre = new PreprocessConfig(order, inputScale, mean, std, policy, longSide, shortSide, divisor);
        } catch (ConfigurationException e) {
            throw new ModelContractException("model preprocessing metadata (" + KEY_INPUT_SCALE + ", " + KEY_MEAN
                    + ", " + KEY_STD + "): " + e.getMessage(), e);
        }

        Convention convention = Convention.MMDET;
        if (r.has(KEY_CONVENTION)) {
            try {
                convention = Convention.parse(r.raw(KEY_CONVENTION));
            } catch (ConfigurationException e) {
                throw new ModelContractException("model metadata " + KEY_CONVENTION + ": " + e.getMessage(), e);
            }
        }
        PostProcessConfig post = PostProcessConfig.defaults(convention);
        String key = null;
        try {
            if (r.has(key = KEY_SCORE_THRESHOLD)) {
                post = post.withScoreThreshold(r.floats(key, 1)[0]);
            }
            if (r.has(key = KEY_NMS_PRE)) {
                post = post.withNmsPre(r.positiveInts(key, 1).get(0));
            }
            if (r.has(key = KEY_IOU_THRESHOLD)) {
                post = post.withIouThreshold(r.floats(key, 1)[0]);
            }
            if (r.has(key = KEY_MAX_DETECTIONS)) {
                post = post.withMaxDetections(r.positiveInts(key, 1).get(0));
            }
        } catch (ConfigurationException e) {
            throw new ModelContractException("model metadata " + key + ": " + e.getMessage(), e);
        }
        return new ModelMetadata(name, strides, names, numClasses, pre, post);
    }

    /** The {@code metadata_props} that describe this model; {@link #fromProperties} reads them back equal. */
    public Map<String, String> toProperties() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY_CONTRACT_VERSION, CONTRACT_VERSION);
        m.put(KEY_MODEL_NAME, modelName);
        m.put(KEY_STRIDES, join(strides));
        if (!classNames.isEmpty()) {
            try {
                m.put(KEY_CLASS_NAMES, JSON.writeValueAsString(classNames));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("class names cannot be written as JSON", e);
            }
        }
        if (numClasses > 0) {
            m.put(KEY_NUM_CLASSES, Integer.toString(numClasses));
        }
        m.put(KEY_CHANNEL_ORDER, preprocess.channelOrder().name());
        m.put(KEY_INPUT_SCALE, number(preprocess.inputScale()));
        m.put(KEY_MEAN, numbers(preprocess.mean()));
        m.put(KEY_STD, numbers(preprocess.std()));
        m.put(KEY_RESIZE_POLICY, preprocess.resizePolicy().name().toLowerCase(Locale.ROOT));
        m.put(KEY_RESIZE_SCALE, preprocess.maxLongSide() + "," + preprocess.maxShortSide());
        m.put(KEY_SIZE_DIVISOR, Integer.toString(preprocess.sizeDivisor()));
        m.put(KEY_CONVENTION, postprocess.convention().id());
        m.put(KEY_SCORE_THRESHOLD, number(postprocess.scoreThreshold()));
        m.put(KEY_NMS_PRE, Integer.toString(postprocess.nmsPre()));
        m.put(KEY_IOU_THRESHOLD, number(postprocess.iouThreshold()));
        m.put(KEY_MAX_DETECTIONS, Integer.toString(postprocess.maxDetections()));
        return m;
    }

    // Integral values without ".0" ("1", "255"), others as the shortest float32 repr.
    private static String number(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e7f ? Long.toString((long) v) : Float.toString(v);
    }

    private static String numbers(float[] values) {
        StringBuilder b = new StringBuilder();
        for (float v : values) {
            b.append(b.length() == 0 ? "" : ",").append(number(v));
        }
        return b.toString();
    }

    private static String join(List<Integer> values) {
        StringBuilder b = new StringBuilder();
        for (int v : values) {
            b.append(b.length() == 0 ? "" : ",").append(v);
        }
        return b.toString();
    }

    /** Parses values of the string map, each error naming its key. */
    private static final class Reader {
        private final Map<String, String> props;

        Reader(Map<String, String> props) {
            this.props = props == null ? Map.of() : props;
        }

        boolean has(String key) {
            String v = props.get(key);
            return v != null && !v.isBlank();
        }

        String raw(String key) {
            return props.get(key);
        }

        ModelContractException bad(String key, String expected) {
            return new ModelContractException("model metadata " + key + " is '" + props.get(key) + "', expected "
                    + expected);
        }

        /** Comma-separated positive integers; count -1 = any number (at least one). */
        List<Integer> positiveInts(String key, int count) {
            String[] parts = props.get(key).split(",", -1);
            String expected = (count < 0 ? "" : count + " ") + "comma-separated positive integer"
                    + (count == 1 ? "" : "s");
            if (count >= 0 && parts.length != count) {
                throw bad(key, expected);
            }
            List<Integer> out = new ArrayList<>(parts.length);
            for (String p : parts) {
                try {
                    int v = Integer.parseInt(p.trim());
                    if (v <= 0) {
                        throw bad(key, expected);
                    }
                    out.add(v);
                } catch (NumberFormatException e) {
                    throw bad(key, expected);
                }
            }
            return out;
        }

        float[] floats(String key, int count) {
            String[] parts = props.get(key).split(",", -1);
            String expected = count + " comma-separated finite number" + (count == 1 ? "" : "s");
            if (parts.length != count) {
                throw bad(key, expected);
            }
            float[] out = new float[count];
            for (int i = 0; i < count; i++) {
                try {
                    // Read as double, then round once to float32, as the fixture format does.
                    out[i] = (float) Double.parseDouble(parts[i].trim());
                } catch (NumberFormatException e) {
                    throw bad(key, expected);
                }
                if (!Float.isFinite(out[i])) {
                    throw bad(key, expected);
                }
            }
            return out;
        }
    }
}
