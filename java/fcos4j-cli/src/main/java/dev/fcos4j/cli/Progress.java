package dev.fcos4j.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A progress display on stderr: a redrawn bar on a terminal, one plain line per tenth otherwise (logs and
 * pipes stay readable), nothing for short runs unless forced.
 */
final class Progress {
    /** When to show progress. */
    enum Mode { AUTO, ALWAYS, NEVER }

    /** Fewer items than this show no progress in AUTO mode. */
    static final int AUTO_MINIMUM = 10;

    private final PrintWriter err;
    private final int total;
    private final boolean enabled;
    private final boolean terminal;
    private final String unit;
    private final long start = System.nanoTime();
    private int lastTenth = -1;

    Progress(PrintWriter err, int total, Mode mode, boolean terminal, String unit) {
        this.err = err;
        this.total = total;
        this.terminal = terminal;
        this.unit = unit;
        this.enabled = mode == Mode.ALWAYS || (mode == Mode.AUTO && total >= AUTO_MINIMUM);
    }

    /** Whether stderr is an interactive terminal (no console when either stream is redirected). */
    static boolean stderrIsTerminal() {
        return System.console() != null;
    }

    void update(int done) {
        if (!enabled || total <= 0) {
            return;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        if (terminal) {
            int width = 30;
            int filled = (int) ((long) width * done / total);
            err.print(String.format(Locale.ROOT, "\r[%s%s] %d/%d %s  %.1f/s", "#".repeat(filled),
                    ".".repeat(width - filled), done, total, unit, rate));
            if (done >= total) {
                err.println();
            }
            err.flush();
        } else {
            int tenth = (int) (10L * done / total);
            if (tenth != lastTenth) {
                lastTenth = tenth;
                err.println(String.format(Locale.ROOT, "progress: %d/%d %s (%d%%, %.1f/s)", done, total, unit,
                        100L * done / total, rate));
                err.flush();
            }
        }
    }
}
