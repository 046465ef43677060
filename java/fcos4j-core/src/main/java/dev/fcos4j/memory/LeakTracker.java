package dev.fcos4j.memory;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Notices native resources (detectors, sessions, native post-processors, engines) that became unreachable without
 * {@code close()}: it logs a warning naming the resource and where it was created, counts the leak, and frees the
 * native part so that a long-running server does not slowly run out of memory. This is a safety net in the manner
 * of cuDF's MemoryCleaner, not a way to manage resources: close them (try-with-resources).
 *
 * <p>The freeing action given to {@link #register} must not refer to the owner (a {@link Cleaner} rule: otherwise
 * the owner never becomes unreachable); it holds the native handles themselves. An explicit close calls
 * {@link Registration#closed()}, after which the action never runs.
 *
 * <p>Warnings go to the {@code dev.fcos4j.leaks} {@link System.Logger}. Where a resource was created is recorded
 * for each registration (the resources are few and long-lived, so the stack trace costs nothing that matters).
 */
public final class LeakTracker {
    private static final System.Logger LOG = System.getLogger("dev.fcos4j.leaks");
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "fcos4j-leak-cleaner");
        t.setDaemon(true);
        return t;
    });
    private static final AtomicLong LEAKED = new AtomicLong();
    private static final Set<State> OPEN = ConcurrentHashMap.newKeySet();

    private LeakTracker() {
    }

    /** What the owner keeps: tells the tracker about an explicit close. */
    public interface Registration {
        /** The owner was closed explicitly: no warning, and the freeing action will never run. Idempotent. */
        void closed();
    }

    /** Registration state; refers to the freeing action, never to the owner. */
    private static final class State implements Runnable {
        private final String what;
        private final Throwable createdAt;
        private final Runnable free;
        private final AtomicBoolean explicit = new AtomicBoolean();

        State(String what, Runnable free) {
            this.what = what;
            this.free = free;
            this.createdAt = new Throwable("created here");
        }

        @Override
        public void run() {
            OPEN.remove(this);
            if (explicit.get()) {
                return;
            }
            LEAKED.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "fcos4j: " + what + " was never closed; freeing it now. Close "
                    + "every Detector and native resource (try-with-resources). It was created at:", createdAt);
            try {
                free.run();
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.WARNING, "fcos4j: freeing the leaked " + what + " failed", e);
            }
        }
    }

    /**
     * Tracks {@code owner}.
     *
     * @param owner the object whose {@code close()} frees {@code free}'s resources
     * @param what  names the resource in the warning (e.g. "Detector for models/r50.onnx")
     * @param free  frees the native part when the owner is collected unclosed; must not refer to the owner
     */
    public static Registration register(Object owner, String what, Runnable free) {
        State state = new State(what, free);
        OPEN.add(state);
        Cleaner.Cleanable cleanable = CLEANER.register(owner, state);
        return () -> {
            state.explicit.set(true);
            cleanable.clean();
        };
    }

    /** Resources collected without {@code close()} since the JVM started. */
    public static long leaked() {
        return LEAKED.get();
    }

    /** Descriptions of the resources registered and neither closed nor collected yet (diagnostics). */
    public static List<String> open() {
        List<String> out = new ArrayList<>();
        for (State s : OPEN) {
            out.add(s.what);
        }
        return out;
    }
}
