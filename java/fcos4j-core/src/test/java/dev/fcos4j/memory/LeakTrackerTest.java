package dev.fcos4j.memory;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static dev.fcos4j.memory.GcSupport.collectUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeakTrackerTest {
    private static final class Owner {
        LeakTracker.Registration registration;
    }

    /** Registers an owner and drops it: no reference survives this method. */
    private static void dropUnclosed(String what, AtomicInteger freed) {
        Owner o = new Owner();
        o.registration = LeakTracker.register(o, what, freed::incrementAndGet);
        assertTrue(LeakTracker.open().contains(what));
    }

    @Test
    void anOwnerCollectedWithoutCloseIsFreedCountedAndNoLongerOpen() throws Exception {
        AtomicInteger freed = new AtomicInteger();
        long before = LeakTracker.leaked();
        dropUnclosed("test resource #1", freed);
        collectUntil("the unclosed owner's native part was freed", () -> freed.get() == 1);
        assertTrue(LeakTracker.leaked() >= before + 1);
        assertFalse(LeakTracker.open().contains("test resource #1"));
    }

    @Test
    void anExplicitCloseIsNoLeakAndNeverFreesTwice() throws Exception {
        AtomicInteger freed = new AtomicInteger();
        Owner o = new Owner();
        o.registration = LeakTracker.register(o, "test resource #2", freed::incrementAndGet);
        o.registration.closed();
        o.registration.closed();
        assertFalse(LeakTracker.open().contains("test resource #2"));
        o = null;
        // a second owner, leaked, proves the cleaner ran since; the closed one must not have been freed by it
        AtomicInteger other = new AtomicInteger();
        dropUnclosed("test resource #3", other);
        collectUntil("the leaked owner was freed", () -> other.get() == 1);
        assertEquals(0, freed.get(), "closed explicitly: the owner frees its own resources");
    }

    @Test
    void aFailingFreeIsReportedNotThrown() throws Exception {
        AtomicInteger after = new AtomicInteger();
        dropUnclosedFailing();
        dropUnclosed("test resource #5", after);
        collectUntil("the cleaner thread survived a failing free", () -> after.get() == 1);
    }

    private static void dropUnclosedFailing() {
        Owner o = new Owner();
        o.registration = LeakTracker.register(o, "test resource #4", () -> {
            throw new IllegalStateException("free failed");
        });
    }
}
