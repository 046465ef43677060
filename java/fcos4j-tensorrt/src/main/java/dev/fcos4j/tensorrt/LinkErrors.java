package dev.fcos4j.tensorrt;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading the dynamic linker's failures out of {@link UnsatisfiedLinkError}s (plain Java, no native code). */
final class LinkErrors {
    private static final Pattern MISSING =
            Pattern.compile("(lib[A-Za-z0-9_+.-]+?\\.so[.0-9]*): cannot open shared object file");

    private LinkErrors() {
    }

    /** The shared library the dynamic linker could not find, from the messages of an error and its causes. */
    static String missingLibrary(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            Matcher m = MISSING.matcher(String.valueOf(t.getMessage()));
            if (m.find()) {
                return m.group(1);
            }
        }
        return null;
    }

    /** The innermost cause's message (the dynamic linker's own words). */
    static String root(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }

    /** The messages of an error and its causes, joined. */
    static String chain(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            b.append(b.length() == 0 ? "" : "; caused by ").append(t);
        }
        return b.toString();
    }
}
