package dev.fcos4j.tensorrt;

import org.bytedeco.tensorrt.nvinfer.ILogger;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * TensorRT's log, routed to {@code java.util.logging} (logger {@value #NAME}): internal errors and errors at SEVERE,
 * warnings at WARNING, info at FINE, verbose at FINEST. The last error lines are also kept so that an exception can
 * quote what TensorRT said. TensorRT keeps one logger per process, so there is exactly one instance, never freed.
 */
final class TensorRtLogger extends ILogger {
    static final String NAME = "dev.fcos4j.tensorrt.TensorRT";
    private static final Logger LOG = Logger.getLogger(NAME);
    private static final int KEEP = 16;

    private final Deque<Entry> errors = new ArrayDeque<>();
    private long sequence;

    private record Entry(long seq, String text) {
    }

    @Override
    public void log(Severity severity, String msg) {
        // Called from TensorRT's threads: never throw back into native code.
        try {
            int s = severity.value;
            Level level;
            if (s <= Severity.kERROR.value) {
                level = Level.SEVERE;
                synchronized (errors) {
                    errors.addLast(new Entry(++sequence, msg));
                    while (errors.size() > KEEP) {
                        errors.removeFirst();
                    }
                }
            } else if (s == Severity.kWARNING.value) {
                level = Level.WARNING;
            } else if (s == Severity.kINFO.value) {
                level = Level.FINE;
            } else {
                level = Level.FINEST;
            }
            if (LOG.isLoggable(level)) {
                LOG.log(level, "TensorRT: " + msg);
            }
        } catch (Throwable ignored) {
            // Logging must not unwind through TensorRT.
        }
    }

    /** A mark to pass to {@link #errorsSince} later. */
    long mark() {
        synchronized (errors) {
            return sequence;
        }
    }

    /** Error lines logged after the mark, oldest first (empty when TensorRT said nothing). */
    List<String> errorsSince(long mark) {
        List<String> out = new ArrayList<>();
        synchronized (errors) {
            for (Entry e : errors) {
                if (e.seq > mark) {
                    out.add(e.text);
                }
            }
        }
        return out;
    }

    /** " (TensorRT: a; b)" or "" for use at the end of a message. */
    String said(long mark) {
        List<String> lines = errorsSince(mark);
        return lines.isEmpty() ? " (TensorRT logged no error; see the " + NAME + " log at FINE for more)"
                : " (TensorRT: " + String.join("; ", lines) + ")";
    }
}
