package dev.fcos4j.cli;

import dev.fcos4j.contract.HeadTensors;
import dev.fcos4j.contract.LevelShape;
import dev.fcos4j.postprocess.Convention;
import dev.fcos4j.postprocess.PostProcessConfig;
import dev.fcos4j.postprocess.ReferencePostProcessor;
import dev.fcos4j.preprocess.ImageMeta;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs the CLI in-process and captures its streams. */
final class CliTestSupport {
    private CliTestSupport() {
    }

    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
