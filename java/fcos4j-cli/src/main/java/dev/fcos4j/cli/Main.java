package dev.fcos4j.cli;

import dev.fcos4j.BackendUnavailableException;
import dev.fcos4j.ConfigurationException;
import dev.fcos4j.Fcos4jException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * The {@code fcos4j} command line. Exit codes: 0 success, 1 runtime failure (unreadable image or model,
 * invalid head outputs, I/O), 2 usage error (unknown option, bad or inconsistent value, or a backend this
 * machine cannot run: no GPU, driver or TensorRT). Errors print one
 * message on stderr naming the file, tensor or option at fault; {@code --verbose} adds the stack trace.
 */
@Command(name = "fcos4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "FCOS object detection for the JVM.",
        subcommands = {DetectCommand.class, PostprocessCommand.class, EvalCommand.class, CompareCommand.class, CommandLine.HelpCommand.class},
        synopsisSubcommandLabel = "COMMAND",
        footer = {"", "Exit codes: 0 success, 1 runtime failure, 2 usage error (or a backend this machine cannot run), "
                + "3 compare: candidate outside tolerances.",
                "Run 'fcos4j COMMAND --help' for a command's options."})
public final class Main implements Runnable {
    /** Exit code of a runtime failure. */
    public static final int EXIT_RUNTIME = 1;
    /** Exit code of a usage error. */
    public static final int EXIT_USAGE = 2;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Print stack traces with errors, and more detail.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a command is required (detect, postprocess, eval, compare)");
    }

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line in-process, writing to the given streams; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return commandLine(new PrintWriter(out, true, StandardCharsets.UTF_8),
                new PrintWriter(err, true, StandardCharsets.UTF_8)).execute(args);
    }

    /** The configured picocli command line (for embedding and tests). */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler(Main::executionError);
        return cl;
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("fcos4j: " + e.getMessage());
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
            err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        }
        err.flush();
        return EXIT_USAGE;
    }

    private static int executionError(Exception e, CommandLine cmd, ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        boolean verbose = verbose(parseResult);
        if (e instanceof ParameterException pe) {
            return usageError(pe, new String[0]);
        }
        int code;
        if (e instanceof BackendUnavailableException) {
            // Not a bad input: this machine cannot run the chosen backend (no GPU, driver or library); pick another.
            err.println("fcos4j: " + e.getMessage());
            code = EXIT_USAGE;
        } else if (e instanceof ConfigurationException) {
            err.println("fcos4j: " + e.getMessage());
            err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
            code = EXIT_USAGE;
        } else if (e instanceof Fcos4jException) {
            err.println("fcos4j: " + e.getMessage());
            code = EXIT_RUNTIME;
        } else {
            err.println("fcos4j: internal error: " + e
                    + (verbose ? "" : " (run with --verbose for the stack trace; please report it)"));
            code = EXIT_RUNTIME;
        }
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    private static boolean verbose(ParseResult result) {
        for (ParseResult r = result; r != null; r = r.subcommand()) {
            if (r.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** Version from the jar manifest (the Maven project version), "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"fcos4j " + (v == null ? "(development build)" : v),
                    "Java " + System.getProperty("java.version") + " on " + System.getProperty("os.name") + " "
                            + System.getProperty("os.arch")};
        }
    }
}
