package dev.fcos4j.contract;

import dev.fcos4j.ModelContractException;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fcos4j model contract (engines/CONTRACT.md) as code: tensor names, the shapes a network must produce for
 * an input size, and the validation of a network's declared inputs and outputs.
 */
public final class ModelContract {
    /** Name of the single network input, float32 [N,3,H,W]. */
    public static final String INPUT = "images";

    private ModelContract() {
    }

    /** {@code cls_<level>}. */
    public static String clsName(int level) {
        return "cls_" + level;
    }

    /** {@code reg_<level>}. */
    public static String regName(int level) {
        return "reg_" + level;
    }

    /** {@code ctr_<level>}. */
    public static String ctrName(int level) {
        return "ctr_" + level;
    }

    /** The 3L output names in the contract's order: cls_0, reg_0, ctr_0, cls_1, ... */
    public static List<String> outputNames(int levels) {
        List<String> names = new ArrayList<>(3 * levels);
        for (int l = 0; l < levels; l++) {
            names.add(clsName(l));
            names.add(regName(l));
            names.add(ctrName(l));
        }
        return names;
    }

    /**
     * The head shapes of a padded input of {@code height} x {@code width}: level 0 is ceil(H / s0) x ceil(W / s0),
     * each further level ceil of the previous divided by the stride ratio (what stride-2, padding-1 3x3 convs
     * give; for multiples of 32 this is simply H / s for P3..P5).
     *
     * @throws ModelContractException when a stride is not a multiple of the one before it
     */
    public static List<LevelShape> levelShapes(int height, int width, List<Integer> strides) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("input size must be positive, got " + width + "x" + height);
        }
        List<LevelShape> shapes = new ArrayList<>(strides.size());
        int h = height;
        int w = width;
        int previous = 1;
        for (int s : strides) {
            if (s % previous != 0) {
                throw new ModelContractException("FPN stride " + s + " is not a multiple of the previous stride "
                        + previous + " (" + ModelMetadata.KEY_STRIDES + " " + strides + ")");
            }
            int ratio = s / previous;
            h = ceilDiv(h, ratio);
            w = ceilDiv(w, ratio);
            shapes.add(new LevelShape(s, h, w));
            previous = s;
        }
        return shapes;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * Checks a network's declared inputs and outputs against the contract and the metadata, and resolves the
     * number of classes when the metadata leaves it open.
     *
     * @param source   what the tensors come from (a file name), for the message
     * @param inputs   the network's inputs
     * @param outputs  the network's outputs (outputs the contract does not name are allowed and ignored)
     * @param metadata the model's metadata
     * @return the metadata, with the number of classes taken from {@code cls_0} when it was 0
     * @throws ModelContractException listing every missing or wrong tensor and every inconsistency at once
     */
    public static ModelMetadata validate(String source, Collection<TensorSpec> inputs, Collection<TensorSpec> outputs,
                                         ModelMetadata metadata) {
        List<String> problems = new ArrayList<>();
        Map<String, TensorSpec> in = byName(inputs);
        Map<String, TensorSpec> out = byName(outputs);

        TensorSpec images = in.get(INPUT);
        if (images == null) {
            problems.add("input '" + INPUT + "' is missing (the model's inputs are " + in.keySet() + ")");
        } else {
            checkTensor(images, 3, "float32 [N,3,H,W]", problems);
        }
        for (String name : in.keySet()) {
            if (!name.equals(INPUT)) {
                problems.add("input '" + name + "' is not part of the contract (the only input is '" + INPUT + "')");
            }
        }

        int declaredClasses = metadata.numClasses();
        long seenClasses = -1;
        String seenFrom = null;
        int levels = metadata.strides().size();
        for (int l = 0; l < levels; l++) {
            int stride = metadata.strides().get(l);
            for (String name : List.of(clsName(l), regName(l), ctrName(l))) {
                TensorSpec t = out.get(name);
                if (t == null) {
                    problems.add("output '" + name + "' (level " + l + ", stride " + stride + ") is missing");
                    continue;
                }
                if (name.startsWith("cls_")) {
                    checkTensor(t, declaredClasses > 0 ? declaredClasses : -1, "float32 [N,C,H,W]", problems);
                    // With a declared count each cls tensor is checked against it above; without, against cls_0.
                    if (declaredClasses == 0 && t.rank() == 4 && t.dim(1) > 0) {
                        if (seenClasses > 0 && t.dim(1) != seenClasses) {
                            problems.add("output '" + name + "' has " + t.dim(1) + " classes but '" + seenFrom
                                    + "' has " + seenClasses);
                        } else if (seenClasses < 0) {
                            seenClasses = t.dim(1);
                            seenFrom = name;
                        }
                    }
                } else if (name.startsWith("reg_")) {
                    checkTensor(t, 4, "float32 [N,4,H,W] (left, top, right, bottom)", problems);
                } else {
                    checkTensor(t, 1, "float32 [N,1,H,W]", problems);
                }
            }
        }
        int resolved = declaredClasses;
        if (declaredClasses == 0) {
            if (seenClasses > 0) {
                resolved = (int) seenClasses;
            } else if (out.containsKey(clsName(0))) {
                problems.add("the number of classes is unknown: the channel dimension of 'cls_0' is dynamic and the "
                        + "metadata has no " + ModelMetadata.KEY_NUM_CLASSES + " or " + ModelMetadata.KEY_CLASS_NAMES);
            }
        }
        if (!problems.isEmpty()) {
            StringBuilder b = new StringBuilder("model ").append(source)
                    .append(" does not follow the fcos4j model contract (engines/CONTRACT.md), ")
                    .append(problems.size()).append(problems.size() == 1 ? " problem:" : " problems:");
            for (String p : problems) {
                b.append("\n  - ").append(p);
            }
            throw new ModelContractException(b.toString());
        }
        return resolved == declaredClasses ? metadata : metadata.withNumClasses(resolved);
    }

    /** Checks dtype, rank 4 and the channel dimension (-1 = any); adds each problem found. */
    private static void checkTensor(TensorSpec t, long channels, String expected, List<String> problems) {
        String what = (t.name().equals(INPUT) ? "input '" : "output '") + t.name() + "'";
        if (!t.elementType().equals(TensorSpec.FLOAT32)) {
            problems.add(what + " is " + t.elementType() + ", expected " + expected);
        }
        if (t.rank() != 4) {
            problems.add(what + " has rank " + t.rank() + " " + t.shapeString() + ", expected " + expected);
            return;
        }
        if (channels > 0 && t.dim(1) >= 0 && t.dim(1) != channels) {
            String note = t.name().startsWith("cls_") ? " (the metadata says " + channels + " classes)" : "";
            problems.add(what + " has " + t.dim(1) + " channels " + t.shapeString() + ", expected " + expected + note);
        }
    }

    private static Map<String, TensorSpec> byName(Collection<TensorSpec> specs) {
        Map<String, TensorSpec> m = new LinkedHashMap<>();
        for (TensorSpec s : specs) {
            m.put(s.name(), s);
        }
        return m;
    }
}
