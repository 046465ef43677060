package dev.fcos4j.cli;

import org.junit.jupiter.api.Test;

import static dev.fcos4j.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    @Test
    void helpListsCommands() {
        CliTestSupport.Result r = run("--help");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("detect") && r.out().contains("postprocess"), r.toString());
        r = run("detect", "--help");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("--model") && r.out().contains("--score-threshold"), r.toString());
    }

    @Test
    void versionPrints() {
        CliTestSupport.Result r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("fcos4j "), r.out());
    }

    @Test
    void usageErrorsExitTwoWithoutStackTrace() {
        for (String[] args : new String[][] {
                {},
                {"frobnicate"},
                {"detect"},
                {"detect", "--model"},
                {"detect", "--model", "m.onnx", "--bogus", "x.jpg"},
                {"detect", "--model", "m.onnx", "--batch", "many", "x.jpg"},
                {"detect", "--model", "m.onnx", "--convention", "yolo", "x.jpg"},
                {"postprocess", "--convention", "mmdet"},
                {"postprocess", "--heads", "h.npz", "--convention", "mmdet", "--image-size", "32x32"},
                {"postprocess", "--heads", "h.npz", "--convention", "mmdet", "--image-size", "0,5"},
        }) {
            CliTestSupport.Result r = run(args);
            assertEquals(Main.EXIT_USAGE, r.code(), String.join(" ", args) + "\n" + r);
            assertTrue(r.err().startsWith("fcos4j: "), r.toString());
            assertFalse(r.err().contains("\tat "), "no stack trace\n" + r);
        }
        CliTestSupport.Result r = run("detect", "--model", "m.onnx", "--convention", "yolo", "x.jpg");
        assertTrue(r.err().contains("yolo") && r.err().contains("mmdet, fcos, torchvision"), r.toString());
        r = run("postprocess", "--heads", "h.npz", "--convention", "mmdet", "--image-size", "32x32");
        assertTrue(r.err().contains("'32x32'"), r.toString());
    }
}
