package dev.fcos4j.model;

import dev.fcos4j.ConfigurationException;
import dev.fcos4j.contract.ModelMetadata;
import dev.fcos4j.onnx.OnnxModelWriter;
import dev.fcos4j.onnx.OnnxModelWriter.Attribute;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.preprocess.PreprocessConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Generates a small, untrained FCOS-architecture model that follows the fcos4j model contract
 * (engines/CONTRACT.md), in pure Java: a conv backbone down to stride 32 (C3, C4, C5 at strides 8, 16, 32), an FPN
 * (1x1 laterals, nearest top-down upsampling, 3x3 output convs) with P6 / P7 from stride-2 convs on P5, and a
 * head shared across levels (conv + GroupNorm + ReLU towers; cls conv, reg conv then per-level Scale, exp and
 * x stride, centerness conv on the regression tower). Batch, height and width are dynamic.
 *
 * <p>Weights are drawn from {@link Random} with the given seed, so a seed always gives the same bytes. The cls
 * bias is raised (prior around 0.03) so that an ordinary image gives mmdet candidates above 0.05. Metadata: mmdet
 * convention and caffe-style preprocessing, with the first {@code numClasses} COCO names.
 *
 * <p>{@link Defect} variants break the contract on purpose, for tests of validation and error paths.
 */
public final class TinyFcosModel {
    /** The 80 COCO class names, in the usual contiguous order. */
    public static final List<String> COCO_CLASSES = List.of("person", "bicycle", "car", "motorcycle", "airplane",
            "bus", "train", "truck", "boat", "traffic light", "fire hydrant", "stop sign", "parking meter", "bench",
            "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
            "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
            "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle", "wine glass",
            "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot",
            "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed", "dining table", "toilet",
            "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
            "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush");

    /** The FPN strides of P3..P7. */
    private static final int[] STRIDES = {8, 16, 32, 64, 128};
    private static final int OPSET = 17;

    /** Deliberate contract violations, for tests. */
    public enum Defect {
        /** A correct contract model. */
        NONE,
        /** Level 4 ({@code cls_4}, {@code reg_4}, {@code ctr_4}) is not an output. */
        MISSING_LEVEL,
        /** {@code reg_1} has 5 channels (reg and ctr concatenated) instead of 4. */
        WRONG_CHANNELS,
        /** {@code ctr_2} is flattened to rank 2, [N, H*W]. */
        WRONG_RANK,
        /** {@code reg_0} is float64. */
        WRONG_DTYPE,
        /** The input is called {@code input}, not {@code images}. */
        WRONG_INPUT_NAME,
        /** The metadata claims one class more than the cls tensors have (and carries no names). */
        CLASS_COUNT_MISMATCH,
        /** The metadata claims strides 8,16,32,64,256: the tensors are fine but P7 is twice the size the strides say. */
        WRONG_STRIDES,
        /** Not a violation: the input is declared [N,3,64,64], so only 64 x 64 batches run. */
        FIXED_INPUT_SIZE,
        /** Every value of {@code cls_2} is NaN (0/0 added to the logits). */
        NAN_CLS,
        /** Every value of {@code reg_1} is NaN. */
        NAN_REG
    }

    /**
     * What to generate.
     *
     * @param seed       weight seed
     * @param numClasses classes C (at least 1)
     * @param width      channels of the FPN and head (divisible by {@code groups})
     * @param groups     GroupNorm groups
     * @param defect     contract violation to build in ({@link Defect#NONE} for a correct model)
     */
    public record Spec(long seed, int numClasses, int width, int groups, Defect defect) {
        public Spec {
            if (numClasses < 1) {
                throw new ConfigurationException("number of classes must be at least 1, got " + numClasses);
            }
            if (width < 1 || groups < 1 || width % groups != 0) {
                throw new ConfigurationException("width " + width + " must be a positive multiple of groups " + groups);
            }
            if (defect == null) {
                defect = Defect.NONE;
            }
        }

        /** A correct model with 16 channels and 4 groups. */
        public static Spec of(long seed, int numClasses) {
            return new Spec(seed, numClasses, 16, 4, Defect.NONE);
        }

        public Spec withDefect(Defect value) {
            return new Spec(seed, numClasses, width, groups, value);
        }
    }

    private TinyFcosModel() {
    }

    /** Writes a correct tiny contract model with 16 FPN / head channels. */
    public static void generate(Path out, long seed, int numClasses) {
        generate(out, Spec.of(seed, numClasses));
    }

    /** Writes the model of a spec. */
    public static void generate(Path out, Spec spec) {
        build(spec).write(out);
    }

    /** The encoded model of a spec. */
    public static byte[] bytes(Spec spec) {
        return build(spec).toBytes();
    }

    /** The metadata a generated model carries (before any {@link Defect#CLASS_COUNT_MISMATCH} change). */
    public static ModelMetadata metadata(int numClasses) {
        List<String> names = new ArrayList<>(numClasses);
        for (int i = 0; i < numClasses; i++) {
            names.add(i < COCO_CLASSES.size() ? COCO_CLASSES.get(i) : "class_" + i);
        }
        List<Integer> strides = new ArrayList<>();
        for (int s : STRIDES) {
            strides.add(s);
        }
        return new ModelMetadata("tiny-fcos-" + numClasses, strides, names, numClasses,
                PreprocessConfig.mmdetCaffe(), PostProcessConfig.defaults(Convention.MMDET));
    }

    private static OnnxModelWriter build(Spec spec) {
        return new Builder(spec).build();
    }

    private static final class Builder {
        private final Spec spec;
        private final Random random;
        private final OnnxModelWriter w = new OnnxModelWriter(OPSET, "fcos4j-tiny", "tiny_fcos");
        private int params;
        private boolean normConstantsWritten;

        Builder(Spec spec) {
            this.spec = spec;
            this.random = new Random(spec.seed());
        }

        OnnxModelWriter build() {
            int c = spec.numClasses();
            int f = spec.width();
            String input = spec.defect() == Defect.WRONG_INPUT_NAME ? "input" : "images";
            if (spec.defect() == Defect.FIXED_INPUT_SIZE) {
                w.input(input, OnnxModelWriter.FLOAT, "N", 3, 64, 64);
            } else {
                w.input(input, OnnxModelWriter.FLOAT, "N", 3, "H", "W");
            }

            // Backbone: stride-2 3x3 convs; C3 at stride 8, C4 at 16, C5 at 32.
            String x = relu(conv(input, 3, 8, 3, 2, he(3 * 9), 0f));
            x = relu(conv(x, 8, 16, 3, 2, he(8 * 9), 0f));
            String c3 = relu(conv(x, 16, 16, 3, 2, he(16 * 9), 0f));
            String c4 = relu(conv(c3, 16, 24, 3, 2, he(16 * 9), 0f));
            String c5 = relu(conv(c4, 24, 32, 3, 2, he(24 * 9), 0f));

            // FPN: laterals, nearest upsampling to the lateral's own size (any input size), 3x3 output convs.
            String l3 = conv(c3, 16, f, 1, 1, he(16), 0f);
            String l4 = conv(c4, 24, f, 1, 1, he(24), 0f);
            String l5 = conv(c5, 32, f, 1, 1, he(32), 0f);
            String m4 = w.node("Add", List.of(l4, upsampleLike(l5, l4)));
            String m3 = w.node("Add", List.of(l3, upsampleLike(m4, l3)));
            String p3 = conv(m3, f, f, 3, 1, he(f * 9), 0f);
            String p4 = conv(m4, f, f, 3, 1, he(f * 9), 0f);
            String p5 = conv(l5, f, f, 3, 1, he(f * 9), 0f);
            String p6 = conv(p5, f, f, 3, 2, he(f * 9), 0f);
            String p7 = conv(relu(p6), f, f, 3, 2, he(f * 9), 0f);
            String[] levels = {p3, p4, p5, p6, p7};

            // Head weights, shared by every level (the same initializer names are used five times).
            Conv clsTower = weights(f, f, 3, 0.1f, 0f);
            Norm clsNorm = norm(f);
            Conv regTower = weights(f, f, 3, 0.1f, 0f);
            Norm regNorm = norm(f);
            float prior = 0.03f;
            Conv clsOut = weights(f, c, 3, 0.1f, (float) -Math.log((1 - prior) / prior));
            Conv regOut = weights(f, 4, 3, 0.05f, (float) Math.log(2.0));
            Conv ctrOut = weights(f, 1, 3, 0.1f, 0f);

            ModelMetadata meta = metadata(c);
            int outLevels = spec.defect() == Defect.MISSING_LEVEL ? STRIDES.length - 1 : STRIDES.length;
            for (int l = 0; l < outLevels; l++) {
                String clsFeat = relu(groupNorm(apply(clsTower, levels[l], 1), clsNorm));
                String regFeat = relu(groupNorm(apply(regTower, levels[l], 1), regNorm));
                String cls = apply(clsOut, clsFeat, 1);
                String scale = scalar("scale_" + l, 1.0f + 0.1f * (float) random.nextGaussian());
                // mmdet with norm_on_bbox=False: exp(scale * x); times the stride so distances are in input pixels.
                String scaled = w.node("Mul", List.of(apply(regOut, regFeat, 1), scale));
                String reg = w.node("Mul", List.of(w.node("Exp", List.of(scaled)), scalar("stride_" + l, STRIDES[l])));
                String ctr = apply(ctrOut, regFeat, 1);

                if (spec.defect() == Defect.NAN_CLS && l == 2) {
                    cls = w.node("Add", List.of(cls, nan("nan_cls")));
                }
                if (spec.defect() == Defect.NAN_REG && l == 1) {
                    reg = w.node("Add", List.of(reg, nan("nan_reg")));
                }
                int regChannels = 4;
                int regType = OnnxModelWriter.FLOAT;
                if (spec.defect() == Defect.WRONG_CHANNELS && l == 1) {
                    reg = w.node("Concat", List.of(reg, ctr), Attribute.ofInt("axis", 1));
                    regChannels = 5;
                }
                if (spec.defect() == Defect.WRONG_DTYPE && l == 0) {
                    reg = w.node("Cast", List.of(reg), Attribute.ofInt("to", OnnxModelWriter.DOUBLE));
                    regType = OnnxModelWriter.DOUBLE;
                }
                boolean flatCtr = spec.defect() == Defect.WRONG_RANK && l == 2;
                if (flatCtr) {
                    ctr = w.node("Flatten", List.of(ctr), Attribute.ofInt("axis", 1));
                }
                String h = "H" + l;
                String wd = "W" + l;
                w.node("Identity", List.of(cls), List.of("cls_" + l));
                w.node("Identity", List.of(reg), List.of("reg_" + l));
                w.node("Identity", List.of(ctr), List.of("ctr_" + l));
                w.output("cls_" + l, OnnxModelWriter.FLOAT, "N", c, h, wd);
                w.output("reg_" + l, regType, "N", regChannels, h, wd);
                if (flatCtr) {
                    w.output("ctr_" + l, OnnxModelWriter.FLOAT, "N", "HW" + l);
                } else {
                    w.output("ctr_" + l, OnnxModelWriter.FLOAT, "N", 1, h, wd);
                }
            }

            for (var e : meta.toProperties().entrySet()) {
                w.metadata(e.getKey(), e.getValue());
            }
            if (spec.defect() == Defect.CLASS_COUNT_MISMATCH) {
                w.metadata(ModelMetadata.KEY_CLASS_NAMES, "[]");
                w.metadata(ModelMetadata.KEY_NUM_CLASSES, Integer.toString(c + 1));
            }
            if (spec.defect() == Defect.WRONG_STRIDES) {
                w.metadata(ModelMetadata.KEY_STRIDES, "8,16,32,64,256");
            }
            w.metadata(ModelMetadata.KEY_MODEL_NAME, "tiny-fcos-" + c + "-seed" + spec.seed()
                    + (spec.defect() == Defect.NONE ? "" : "-" + spec.defect().name().toLowerCase(Locale.ROOT)));
            return w;
        }

        private record Conv(String weight, String bias, int out, int kernel) {
        }

        private record Norm(String gamma, String beta, int channels) {
        }

        private static float he(int fanIn) {
            return (float) Math.sqrt(2.0 / fanIn);
        }

        private Conv weights(int in, int out, int k, float std, float bias) {
            int id = params++;
            String wName = "w" + id;
            String bName = "b" + id;
            float[] wv = new float[out * in * k * k];
            for (int i = 0; i < wv.length; i++) {
                wv[i] = (float) (random.nextGaussian() * std);
            }
            float[] bv = new float[out];
            Arrays.fill(bv, bias);
            w.initializer(wName, new long[] {out, in, k, k}, wv);
            w.initializer(bName, new long[] {out}, bv);
            return new Conv(wName, bName, out, k);
        }

        // 1x1 convs get no padding, 3x3 convs padding 1 ("same" size at stride 1, ceil(H/2) at stride 2).
        private String apply(Conv conv, String x, int stride) {
            long k = conv.kernel();
            long pad = k / 2;
            return w.node("Conv", List.of(x, conv.weight(), conv.bias()),
                    Attribute.ofInts("kernel_shape", k, k), Attribute.ofInts("strides", stride, stride),
                    Attribute.ofInts("pads", pad, pad, pad, pad));
        }

        private String conv(String x, int in, int out, int k, int stride, float std, float bias) {
            return apply(weights(in, out, k, std, bias), x, stride);
        }

        private String relu(String x) {
            return w.node("Relu", List.of(x));
        }

        private String upsampleLike(String x, String like) {
            String sizes = w.node("Shape", List.of(like));
            return w.node("Resize", List.of(x, "", "", sizes), Attribute.ofString("mode", "nearest"),
                    Attribute.ofString("coordinate_transformation_mode", "asymmetric"),
                    Attribute.ofString("nearest_mode", "floor"));
        }

        private Norm norm(int channels) {
            int id = params++;
            float[] gamma = new float[channels];
            float[] beta = new float[channels];
            for (int i = 0; i < channels; i++) {
                gamma[i] = 1f + 0.1f * (float) random.nextGaussian();
                beta[i] = 0.1f * (float) random.nextGaussian();
            }
            w.initializer("gn_gamma" + id, new long[] {channels, 1, 1}, gamma);
            w.initializer("gn_beta" + id, new long[] {channels, 1, 1}, beta);
            return new Norm("gn_gamma" + id, "gn_beta" + id, channels);
        }

        // GroupNorm as ONNX exporters write it for opset < 18: reshape to [N, G, -1], InstanceNormalization
        // (unit scale, zero bias), reshape back, then the per-channel affine transform.
        private String groupNorm(String x, Norm n) {
            int g = spec.groups();
            String groupShape = "gn_shape";
            String ones = "gn_ones";
            String zeros = "gn_zeros";
            if (!normConstantsWritten) {
                w.initializer(groupShape, new long[] {3}, new long[] {0, g, -1});
                float[] one = new float[g];
                Arrays.fill(one, 1f);
                w.initializer(ones, new long[] {g}, one);
                w.initializer(zeros, new long[] {g}, new float[g]);
                normConstantsWritten = true;
            }
            String grouped = w.node("Reshape", List.of(x, groupShape));
            String normed = w.node("InstanceNormalization", List.of(grouped, ones, zeros),
                    Attribute.ofFloat("epsilon", 1e-5f));
            String back = w.node("Reshape", List.of(normed, w.node("Shape", List.of(x))));
            return w.node("Add", List.of(w.node("Mul", List.of(back, n.gamma())), n.beta()));
        }

        private String scalar(String name, float value) {
            w.initializer(name, new long[] {}, new float[] {value});
            return name;
        }

        private String nan(String name) {
            String zero = scalar(name + "_zero", 0f);
            return w.node("Div", List.of(zero, zero));
        }
    }

    /**
     * Command line: {@code TinyFcosModel --out FILE [--seed N] [--classes C] [--defect NAME]}.
     * Writes the model and prints its path.
     */
    public static void main(String[] args) {
        Path out = null;
        long seed = 1;
        int classes = 80;
        Defect defect = Defect.NONE;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help")) {
                    System.out.println("usage: TinyFcosModel --out FILE [--seed N] [--classes C] [--defect "
                            + Arrays.toString(Defect.values()) + "]");
                    return;
                }
                if (i + 1 >= args.length) {
                    throw new ConfigurationException("option " + a + " needs a value");
                }
                String v = args[++i];
                switch (a) {
                    case "--out" -> out = Path.of(v);
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--classes" -> classes = Integer.parseInt(v);
                    case "--defect" -> defect = Defect.valueOf(v.toUpperCase(Locale.ROOT));
                    default -> throw new ConfigurationException("unknown option " + a
                            + " (expected --out, --seed, --classes, --defect)");
                }
            }
            if (out == null) {
                throw new ConfigurationException("--out FILE is required");
            }
            generate(out, new Spec(seed, classes, 16, 4, defect));
            System.out.println(out);
        } catch (IllegalArgumentException | ConfigurationException e) {
            System.err.println("TinyFcosModel: " + e.getMessage());
            System.exit(2);
        }
    }
}
