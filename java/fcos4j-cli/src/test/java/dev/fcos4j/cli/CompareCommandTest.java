package dev.fcos4j.cli;

import dev.fcos4j.model.TinyFcosModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static dev.fcos4j.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code fcos4j compare}: agreement of a candidate with a reference, and its exit codes. */
class CompareCommandTest {
    @TempDir
    static Path dir;

    static Path model;
    static Path otherModel;
    static Path images;

    @BeforeAll
    static void makeModelsAndImages() throws IOException {
        model = dir.resolve("tiny-seed1.onnx");
        TinyFcosModel.generate(model, 1, 80);
        otherModel = dir.resolve("tiny-seed2.onnx");
        TinyFcosModel.generate(otherModel, 2, 80);
        images = Files.createDirectory(dir.resolve("images"));
        Random r = new Random(5);
        for (int i = 0; i < 3; i++) {
            BufferedImage img = new BufferedImage(96, 64, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    img.setRGB(x, y, ((x * 2 + i * 40) << 16) | ((y * 3) << 8) | r.nextInt(256));
                }
            }
            ImageIO.write(img, "png", images.resolve("img" + i + ".png").toFile());
        }
    }

    @Test
    void aModelAgreesWithItself() {
        CliTestSupport.Result r = run("compare", "--model", model.toString(), "--threads", "1", images.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("PASS"), r::toString);
        assertTrue(r.out().contains("max box deviation 0.000 px, max score deviation 0.000"), r::toString);
    }

    @Test
    void aDifferentModelIsRefusedWithExitThree() {
        CliTestSupport.Result r = run("compare", "--model", model.toString(), "--candidate-model", otherModel.toString(),
                "--threads", "1", images.toString());
        assertEquals(CompareCommand.EXIT_DISAGREE, r.code(), r::toString);
        assertTrue(r.out().contains("FAIL:"), r::toString);
        assertTrue(r.out().contains("least agreement on:"), r::toString);
    }

    @Test
    void unknownBackendsAreUsageErrors() {
        // trt-fp16 itself needs a GPU: TensorRtBackendCliTest runs it in a child JVM.
        CliTestSupport.Result trt = run("compare", "--model", model.toString(), "--candidate", "trt-int8", images.toString());
        assertEquals(2, trt.code(), trt::toString);
        assertTrue(trt.err().contains("trt-int8") && trt.err().contains("cpu, trt-fp32, trt-fp16"), trt::toString);
        CliTestSupport.Result bogus = run("compare", "--model", model.toString(), "--reference", "gpu9", images.toString());
        assertEquals(2, bogus.code(), bogus::toString);
    }

    @Test
    void aMissingModelIsARuntimeError() {
        CliTestSupport.Result r = run("compare", "--model", dir.resolve("nope.onnx").toString(), images.toString());
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("nope.onnx"), r::toString);
    }
}
