package dev.fcos4j.memory;

import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test helper: drives the garbage collector until a Cleaner's effect shows. */
public final class GcSupport {
    private GcSupport() {
    }

    /** Runs the collector until {@code done} holds (a Cleaner acts on its own thread, soon after a collection). */
    public static void collectUntil(String what, BooleanSupplier done) throws InterruptedException {
        for (int i = 0; i < 400 && !done.getAsBoolean(); i++) {
            System.gc();
            Thread.sleep(25);
        }
        assertTrue(done.getAsBoolean(), what);
    }
}
