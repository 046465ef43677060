package dev.fcos4j.postprocess;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Helper threads that share the images of one batch with the calling thread, without allocating per batch (no
 * tasks, no futures): the caller publishes the job, wakes the helpers, and every participant claims image indices
 * from one counter until none is left. One batch at a time ({@link #tryAcquire}): a caller that finds the helpers
 * busy with another caller's batch runs its images alone, so concurrent callers never wait for each other.
 *
 * <p>Failures: every image is processed; the failure of the lowest image index is rethrown, which is the one a
 * sequential run would have thrown. The helpers are daemon threads, parked between batches; {@link #close()}
 * stops them. They refer to a job only while it runs, so they never keep its owner reachable.
 */
final class BatchWorkers implements AutoCloseable {
    /** One image of the current batch; run on any participating thread. */
    interface ImageJob {
        void run(int image);
    }

    private final Thread[] helpers;
    private final ReentrantLock busy = new ReentrantLock();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    /** Images processed by the helpers (not the caller), for tests and diagnostics. */
    private final LongAdder helperImages = new LongAdder();
    private volatile ImageJob job;
    private volatile int count;
    private volatile Thread caller;
    private volatile long generation;
    private volatile boolean stopped;
    private int failedImage;
    private Throwable failure;

    /**
     * @param helperThreads threads besides the caller (at least 1)
     * @param name          thread name prefix
     */
    BatchWorkers(int helperThreads, String name) {
        if (helperThreads < 1) {
            throw new IllegalArgumentException("helper threads must be at least 1, got " + helperThreads);
        }
        helpers = new Thread[helperThreads];
        for (int i = 0; i < helperThreads; i++) {
            Thread t = new Thread(this::helperLoop, name + "-" + (i + 1));
            t.setDaemon(true);
            helpers[i] = t;
            t.start();
        }
    }

    /** Threads that share a batch, the caller included. */
    int parallelism() {
        return helpers.length + 1;
    }

    /**
     * Takes the helpers for one batch: true when they were free (then call {@link #runAll} and {@link #release});
     * false when another caller's batch has them or they are stopped (then run the images alone).
     */
    boolean tryAcquire() {
        if (!busy.tryLock()) {
            return false;
        }
        // Checked under the lock: close() takes it too, so helpers never stop in the middle of a batch.
        if (stopped) {
            busy.unlock();
            return false;
        }
        return true;
    }

    /** Gives the helpers back after {@link #tryAcquire}. */
    void release() {
        busy.unlock();
    }

    /**
     * Runs {@code job} for images {@code 0 .. count-1} on the caller and the helpers and returns when all are done.
     * The caller must hold the helpers ({@link #tryAcquire}).
     *
     * @throws RuntimeException the failure of the lowest failing image (errors are rethrown as they are)
     */
    void runAll(int count, ImageJob job) {
        if (!busy.isHeldByCurrentThread()) {
            throw new IllegalStateException("runAll without tryAcquire");
        }
        failure = null;
        failedImage = Integer.MAX_VALUE;
        this.job = job;
        this.count = count;
        this.caller = Thread.currentThread();
        next.set(0);
        running.set(helpers.length);
        generation++;  // publishes the fields above to the helpers
        for (Thread t : helpers) {
            LockSupport.unpark(t);
        }
        drain(job, count);
        while (running.get() > 0) {
            LockSupport.park(this);
        }
        this.job = null;
        this.caller = null;
        Throwable f;
        synchronized (this) {
            f = failure;
            failure = null;
        }
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof Error e) {
            throw e;
        }
    }

    /** Claims and runs images until none is left; returns how many this thread ran. */
    private int drain(ImageJob job, int count) {
        int ran = 0;
        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement(), ran++) {
            try {
                job.run(i);
            } catch (Throwable t) {
                synchronized (this) {
                    if (i < failedImage) {
                        failedImage = i;
                        failure = t;
                    }
                }
            }
        }
        return ran;
    }

    private void helperLoop() {
        long seen = 0;
        while (true) {
            long g = generation;
            if (g != seen) {
                seen = g;
                ImageJob j = job;
                if (j != null) {
                    helperImages.add(drain(j, count));
                }
                Thread c = caller;
                if (running.decrementAndGet() == 0 && c != null) {
                    LockSupport.unpark(c);
                }
            } else if (stopped) {
                return;
            } else {
                LockSupport.park(this);
            }
        }
    }

    /** Waits for a batch in progress, then stops the helpers; idempotent. */
    @Override
    public void close() {
        busy.lock();
        try {
            stopped = true;
        } finally {
            busy.unlock();
        }
        for (Thread t : helpers) {
            LockSupport.unpark(t);
        }
    }

    /** Images the helpers processed so far (the caller's share not counted). */
    long helperImages() {
        return helperImages.sum();
    }

    /** Whether every helper thread has ended (after {@link #close()}). */
    boolean terminated() {
        for (Thread t : helpers) {
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }
}
