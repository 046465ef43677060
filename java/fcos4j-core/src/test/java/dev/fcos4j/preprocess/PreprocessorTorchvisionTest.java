package dev.fcos4j.preprocess;

import dev.fcos4j.io.NpyArray;
import dev.fcos4j.io.Npz;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The TORCHVISION policy against torchvision itself: torchvision_batch.npz holds what
 * GeneralizedRCNNTransform(min_size=40, max_size=64, ImageNet mean/std) made of the two PNGs beside it
 * (make_torchvision_fixture.py, torch 1.13 / torchvision 0.14).
 */
class PreprocessorTorchvisionTest {
    private static Path resource(String name) {
        try {
            return Paths.get(PreprocessorTorchvisionTest.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void matchesGeneralizedRcnnTransform() {
        Map<String, NpyArray> expected = Npz.read(resource("torchvision_batch.npz"));
        NpyArray batch = expected.get("batch");
        NpyArray sizes = expected.get("image_sizes");
        PreprocessConfig cfg = new PreprocessConfig(PreprocessConfig.ChannelOrder.RGB, 255f,
                new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f},
                PreprocessConfig.ResizePolicy.TORCHVISION, 64, 40, 32);
        try (Preprocessor pre = new Preprocessor(cfg)) {
            ImageBatch got = pre.preprocessFiles(List.of(resource("tv_image_0.png"), resource("tv_image_1.png")));
            assertArrayEquals(batch.shape(), new int[] {got.size(), 3, got.height(), got.width()});
            for (int i = 0; i < got.size(); i++) {
                ImageMeta m = got.metas().get(i);
                assertEquals((int) sizes.data()[2 * i], m.resizedHeight(), "resized height of image " + i);
                assertEquals((int) sizes.data()[2 * i + 1], m.resizedWidth(), "resized width of image " + i);
            }
            float[] want = batch.data();
            float worst = 0;
            for (int k = 0; k < want.length; k++) {
                float v = got.data().get(k);
                if (want[k] == 0f) {
                    assertEquals(0f, v, 2e-5f, "value " + k);
                }
                worst = Math.max(worst, Math.abs(v - want[k]));
            }
            // Same sampling grid; torch computes source positions in float, OpenCV in double: ~1e-5 pixel
            // apart, times this noise image's steep gradients (up to ~4 per pixel) gives a few 1e-5.
            assertEquals(0f, worst, 1e-4f, "largest difference from torchvision");
        }
    }
}
