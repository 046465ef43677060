package dev.fcos4j.model;

import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.NetworkOutput;
import dev.fcos4j.model.TinyFcosModel.Defect;
import dev.fcos4j.model.TinyFcosModel.Spec;
import dev.fcos4j.onnx.OnnxRuntimeNetwork;
import dev.fcos4j.preprocess.ImageBatch;
import dev.fcos4j.preprocess.ImageMeta;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generated graph is the architecture TinyFcosModel documents: torch recomputes every head output from the
 * file's weights (tiny_fcos_torch.py, written from the description, not from the graph) and agrees with what
 * ONNX Runtime returns. Skipped where python3 with torch and onnx is absent.
 */
class TinyFcosModelTorchTest {
    @TempDir
    Path dir;

    @Test
    void torchRecomputesTheHeadOutputs() throws Exception {
        Path python = Path.of(System.getProperty("fcos4j.python", "/usr/bin/python3"));
        Assumptions.assumeTrue(Files.isExecutable(python), "no " + python);
        Assumptions.assumeTrue(new ProcessBuilder(python.toString(), "-c", "import torch, onnx").start()
                .waitFor() == 0, "python3 lacks torch or onnx");
        Path model = dir.resolve("tiny.onnx");
        Spec spec = new Spec(4, 6, 16, 4, Defect.NONE);
        TinyFcosModel.generate(model, spec);
        int n = 2;
        int h = 96;
        int w = 160;
        FloatBuffer data = FloatBuffer.allocate(n * 3 * h * w);
        Random r = new Random(1);
        for (int i = 0; i < data.capacity(); i++) {
            data.put(i, (float) (r.nextGaussian() * 50));
        }
        write(dir.resolve("input.bin"), data);
        Files.writeString(dir.resolve("shape.txt"), n + " " + h + " " + w);
        try (OnnxRuntimeNetwork net = OnnxRuntimeNetwork.load(model, new OnnxRuntimeNetwork.Options(1));
             NetworkOutput out = net.run(new ImageBatch(data, h, w,
                     List.of(ImageMeta.unscaled(h, w), ImageMeta.unscaled(h, w))))) {
            HeadTensors heads = out.heads();
            for (int l = 0; l < 5; l++) {
                write(dir.resolve("cls_" + l + ".bin"), heads.cls(l));
                write(dir.resolve("reg_" + l + ".bin"), heads.reg(l));
                write(dir.resolve("ctr_" + l + ".bin"), heads.ctr(l));
            }
        }
        Path script = dir.resolve("tiny_fcos_torch.py");
        try (InputStream in = getClass().getResourceAsStream("tiny_fcos_torch.py")) {
            Files.write(script, in.readAllBytes());
        }
        Process p = new ProcessBuilder(python.toString(), script.toString(), model.toString(), dir.toString(),
                Integer.toString(spec.groups())).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python timed out");
        assertEquals(0, p.exitValue(), log);
        assertEquals(15, log.lines().filter(s -> s.matches("(cls|reg|ctr)_\\d .*")).count(), log);
    }

    private static void write(Path file, FloatBuffer values) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(values.capacity() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.capacity(); i++) {
            b.putFloat(values.get(i));
        }
        Files.write(file, b.array());
    }
}
