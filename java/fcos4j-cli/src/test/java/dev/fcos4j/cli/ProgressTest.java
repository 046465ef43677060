package dev.fcos4j.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {
    private static String run(int total, Progress.Mode mode, boolean terminal) {
        StringWriter text = new StringWriter();
        Progress p = new Progress(new PrintWriter(text), total, mode, terminal, "images");
        for (int i = 1; i <= total; i++) {
            p.update(i);
        }
        return text.toString();
    }

    @Test
    void plainModePrintsALinePerTenth() {
        String out = run(50, Progress.Mode.AUTO, false);
        String[] lines = out.split("\n");
        // The first update, then one line at each further tenth.
        assertEquals(11, lines.length, out);
        assertTrue(lines[0].startsWith("progress: 1/50 images (2%"), lines[0]);
        assertTrue(lines[1].startsWith("progress: 5/50 images (10%"), lines[1]);
        assertTrue(lines[10].startsWith("progress: 50/50 images (100%"), lines[10]);
    }

    @Test
    void terminalModeRedrawsOneLineAndEndsIt() {
        String out = run(12, Progress.Mode.AUTO, true);
        assertEquals(12, out.chars().filter(c -> c == '\r').count());
        assertTrue(out.endsWith("\n"));
        assertEquals(1, out.chars().filter(c -> c == '\n').count());
        assertTrue(out.contains("[" + "#".repeat(30) + "] 12/12 images"), out);
    }

    @Test
    void autoIsSilentForFewItemsAndNeverIsSilent() {
        assertEquals("", run(Progress.AUTO_MINIMUM - 1, Progress.Mode.AUTO, false));
        assertEquals("", run(100, Progress.Mode.NEVER, true));
        assertTrue(run(2, Progress.Mode.ALWAYS, false).contains("2/2"));
    }
}
