package dev.fcos4j.contract;

import dev.fcos4j.ModelContractException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelContractTest {
    private static final long D = -1;

    static List<TensorSpec> outputs(int levels, long classes) {
        List<TensorSpec> out = new ArrayList<>();
        for (int l = 0; l < levels; l++) {
            out.add(new TensorSpec("cls_" + l, "float32", new long[] {D, classes, D, D}));
            out.add(new TensorSpec("reg_" + l, "float32", new long[] {D, 4, D, D}));
            out.add(new TensorSpec("ctr_" + l, "float32", new long[] {D, 1, D, D}));
        }
        return out;
    }

    static final List<TensorSpec> IMAGES = List.of(new TensorSpec("images", "float32", new long[] {D, 3, D, D}));

    @Test
    void levelShapesFollowStrideTwoConvRounding() {
        // 800 x 1216 (mmdet 1333x800 of a 4:3 image, padded): 100x152, 50x76, 25x38, ceil(25/2)=13 x 19, 7 x 10
        assertEquals(List.of(new LevelShape(8, 100, 152), new LevelShape(16, 50, 76), new LevelShape(32, 25, 38),
                        new LevelShape(64, 13, 19), new LevelShape(128, 7, 10)),
                ModelContract.levelShapes(800, 1216, ModelMetadata.DEFAULT_STRIDES));
        // not a multiple of 8: ceil at every level
        assertEquals(List.of(new LevelShape(8, 3, 1), new LevelShape(16, 2, 1)),
                ModelContract.levelShapes(17, 3, List.of(8, 16)));
        assertThrows(ModelContractException.class, () -> ModelContract.levelShapes(64, 64, List.of(8, 12)));
    }

    @Test
    void aCorrectModelPassesAndResolvesTheClassCount() {
        ModelMetadata meta = ModelMetadata.fromProperties(Map.of());
        ModelMetadata resolved = ModelContract.validate("m.onnx", IMAGES, outputs(5, 80), meta);
        assertEquals(80, resolved.numClasses());
        ModelMetadata known = meta.withNumClasses(80);
        assertSame(known, ModelContract.validate("m.onnx", IMAGES, outputs(5, 80), known));
    }

    @Test
    void listsEveryProblemAtOnce() {
        List<TensorSpec> out = new ArrayList<>(outputs(5, 80));
        out.removeIf(t -> t.name().equals("reg_3"));
        out.replaceAll(t -> switch (t.name()) {
            case "cls_1" -> new TensorSpec("cls_1", "float32", new long[] {D, 81, D, D});
            case "ctr_0" -> new TensorSpec("ctr_0", "float16", new long[] {D, 1, D, D});
            case "reg_2" -> new TensorSpec("reg_2", "float32", new long[] {D, D, 4});
            default -> t;
        });
        List<TensorSpec> in = List.of(new TensorSpec("images", "float32", new long[] {D, 1, D, D}),
                new TensorSpec("scale_factor", "float32", new long[] {2}));
        ModelMetadata meta = ModelMetadata.fromProperties(Map.of("fcos4j.num_classes", "80"));
        ModelContractException e = assertThrows(ModelContractException.class,
                () -> ModelContract.validate("broken.onnx", in, out, meta));
        String msg = e.getMessage();
        for (String part : List.of("broken.onnx", "6 problems", "input 'images' has 1 channels",
                "input 'scale_factor' is not part", "'reg_3' (level 3, stride 64) is missing",
                "'cls_1' has 81 channels", "'ctr_0' is float16", "'reg_2' has rank 3")) {
            assertTrue(msg.contains(part), "expected '" + part + "' in: " + msg);
        }
    }

    @Test
    void unknownClassCountWithDynamicChannelsIsAnError() {
        ModelContractException e = assertThrows(ModelContractException.class,
                () -> ModelContract.validate("dyn.onnx", IMAGES, outputs(5, D), ModelMetadata.fromProperties(Map.of())));
        assertTrue(e.getMessage().contains("number of classes is unknown"), e.getMessage());
    }

    @Test
    void classCountsMustAgreeAcrossLevels() {
        List<TensorSpec> out = new ArrayList<>(outputs(5, 80));
        out.set(3 * 4, new TensorSpec("cls_4", "float32", new long[] {D, 79, D, D}));
        ModelContractException e = assertThrows(ModelContractException.class,
                () -> ModelContract.validate("m.onnx", IMAGES, out, ModelMetadata.fromProperties(Map.of())));
        assertTrue(e.getMessage().contains("'cls_4' has 79 classes but 'cls_0' has 80"), e.getMessage());
    }
}
