package dev.fcos4j.tensorrt;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * The slots of a network and who may use them (plain Java, tested without a GPU). At most {@code size} slots exist,
 * each on its own index {@code 0..size-1} (its optimization profile: TensorRT lets one profile serve one context at
 * a time). A run leases a slot, reusing an idle one or creating one on a free index; the lease outlives the run (the
 * output reads the slot's memory) and ends with {@link #giveBack}. A run that throws frees its slot, since its
 * stream or context may be in an error state.
 *
 * <p>{@link #close()} waits for runs in progress, frees the idle slots, and makes every later give-back free its
 * slot. A caller waiting for a slot does not hold {@code close()} up: it gets the closed error once a slot comes
 * free.
 *
 * @param <S> the slot
 */
final class SlotPool<S> {
    /** A slot leased to one run and then to its output. */
    static final class Lease<S> {
        private final S slot;
        private final int index;

        private Lease(S slot, int index) {
            this.slot = slot;
            this.index = index;
        }

        S slot() {
            return slot;
        }

        int index() {
            return index;
        }
    }

    private final IntFunction<S> create;
    private final Consumer<S> free;
    private final Supplier<RuntimeException> closedError;
    private final Semaphore permits;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final ConcurrentLinkedQueue<Lease<S>> idle = new ConcurrentLinkedQueue<>();
    /** Guards the fields below and {@link #closed}'s transitions. */
    private final Object monitor = new Object();
    private final Set<Lease<S>> live = new HashSet<>();
    private final ArrayDeque<Integer> freeIndices = new ArrayDeque<>();
    private volatile boolean closed;

    /**
     * @param size        the most slots at once
     * @param create      creates the slot of an index (may throw: the index stays free)
     * @param free        frees a slot
     * @param closedError the exception of a run after close
     */
    SlotPool(int size, IntFunction<S> create, Consumer<S> free, Supplier<RuntimeException> closedError) {
        this.create = create;
        this.free = free;
        this.closedError = closedError;
        for (int k = 0; k < size; k++) {
            freeIndices.add(k);
        }
        this.permits = new Semaphore(size, true);
    }

    /**
     * Runs {@code body} on a leased slot and returns its result, which now owns the lease (it must call
     * {@link #giveBack} once). Waits while all slots are leased.
     *
     * @throws RuntimeException the closed error after close, or what {@code body} or the slot's creation threw
     *                          (the slot is then freed and the lease ended)
     */
    <R> R run(Function<Lease<S>, R> body) {
        if (closed) {
            throw closedError.get();
        }
        // The permit before the lock: close() takes the write lock, and a waiter holding the read lock would keep
        // close() (and so, possibly, the thread that would give a slot back) waiting forever.
        permits.acquireUninterruptibly();
        Lease<S> lease = null;
        boolean handedOut = false;
        lock.readLock().lock();
        try {
            if (closed) {
                throw closedError.get();
            }
            lease = idle.poll();
            if (lease == null) {
                lease = newLease();
            }
            R result = body.apply(lease);
            handedOut = true;
            return result;
        } finally {
            if (!handedOut) {
                if (lease != null) {
                    discard(lease);
                }
                permits.release();
            }
            lock.readLock().unlock();
        }
    }

    private Lease<S> newLease() {
        int index;
        synchronized (monitor) {
            index = freeIndices.remove(); // a held permit guarantees one
        }
        S slot;
        try {
            slot = create.apply(index);
        } catch (RuntimeException | Error e) {
            synchronized (monitor) {
                freeIndices.add(index);
            }
            throw e;
        }
        Lease<S> lease = new Lease<>(slot, index);
        synchronized (monitor) {
            live.add(lease);
        }
        return lease;
    }

    /** Ends a lease: the slot goes idle, or is freed when the pool is closed. */
    void giveBack(Lease<S> lease) {
        boolean keep;
        // Under the monitor that close() sets the flag under: a slot offered here is either drained by close() or
        // freed here, never left idle in a closed pool.
        synchronized (monitor) {
            keep = !closed;
            if (keep) {
                idle.offer(lease);
            }
        }
        try {
            if (!keep) {
                discard(lease);
            }
        } finally {
            permits.release();
        }
    }

    private void discard(Lease<S> lease) {
        synchronized (monitor) {
            if (!live.remove(lease)) {
                return;
            }
        }
        try {
            free.accept(lease.slot);
        } finally {
            synchronized (monitor) {
                freeIndices.add(lease.index);
            }
        }
    }

    /** Waits for runs in progress and frees the idle slots; leased ones are freed when given back. Idempotent. */
    void close() {
        lock.writeLock().lock();
        try {
            synchronized (monitor) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            RuntimeException first = null;
            for (Lease<S> l; (l = idle.poll()) != null; ) {
                try {
                    discard(l);
                } catch (RuntimeException e) {
                    // Free the others anyway; report the first failure.
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Slots created and not yet freed (idle or leased). */
    int liveSlots() {
        synchronized (monitor) {
            return live.size();
        }
    }
}
