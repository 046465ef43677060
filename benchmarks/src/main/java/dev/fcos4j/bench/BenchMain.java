package dev.fcos4j.bench;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Entry point for {@code make bench}: runs the fcos4j JMH benchmarks with the allocation profiler and writes
 * JSON results under {@code benchmarks/results/} (override with {@code -Dfcos4j.bench.out=FILE}). Any JMH
 * command-line option may be passed and wins over these defaults, e.g. a benchmark regex
 * ({@code PostProcessBenchmark.intoArrays}), {@code -p convention=mmdet}, or {@code -wi 2 -i 3} for a quick run.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException, IOException {
        CommandLineOptions cli = new CommandLineOptions(args);
        Path out = Path.of(System.getProperty("fcos4j.bench.out", "benchmarks/results/jmh-results.json"));
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cli)
                .resultFormat(ResultFormatType.JSON)
                .result(out.toString());
        if (cli.getIncludes().isEmpty()) {
            options.include(PostProcessBenchmark.class.getSimpleName());
        }
        if (cli.getProfilers().isEmpty()) {
            options.addProfiler(GCProfiler.class);
        }
        new Runner(options.build()).run();
    }
}
