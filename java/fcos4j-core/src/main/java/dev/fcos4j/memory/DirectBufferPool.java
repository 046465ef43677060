package dev.fcos4j.memory;

import java.lang.ref.WeakReference;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A small pool of direct, native-order, aligned buffers, so that steady-state detection allocates no native
 * memory: a fresh {@code allocateDirect} of a network-sized buffer costs a zero-fill, and its memory is only
 * returned when the garbage collector happens to notice, which under load means many megabytes in flight.
 *
 * <p>{@link #acquire} and {@link #acquireFloats} hand out a buffer of exactly the requested size (a view of a
 * pooled block, whose size is rounded up so that slightly different image sizes share blocks); {@link #release}
 * takes it back. Only the buffer object that was handed out is recognised; anything else is ignored, so releasing
 * twice or releasing a foreign buffer is harmless. The pool holds a loan only weakly: a buffer never released is
 * collected with its block, as if it had been allocated directly. At most {@code maxIdleBlocks} blocks and
 * {@code maxIdleBytes} bytes are kept idle; blocks beyond that are dropped.
 *
 * <p>The contents of a handed-out buffer are unspecified (a reused block holds what its last user wrote): callers
 * write every byte they read. Thread-safe.
 */
public final class DirectBufferPool {
    /** Alignment of every buffer's first byte: a cache line, what ONNX Runtime's own allocator gives. */
    public static final int ALIGNMENT = 64;
    private static final int GRANULE = 1 << 20;

    /** A buffer handed out (held weakly) and the block behind it. */
    private record Loan(WeakReference<Buffer> handle, ByteBuffer block) {
    }

    private final String name;
    private final int maxIdleBlocks;
    private final long maxIdleBytes;
    private final List<ByteBuffer> idle = new ArrayList<>();
    private final List<Loan> loans = new ArrayList<>();
    private long idleBytes;
    private long allocations;
    private boolean cleared;

    /**
     * @param name          what the buffers are for, in messages
     * @param maxIdleBlocks idle blocks kept for reuse (at least 1)
     * @param maxIdleBytes  idle bytes kept for reuse
     */
    public DirectBufferPool(String name, int maxIdleBlocks, long maxIdleBytes) {
        if (maxIdleBlocks < 1 || maxIdleBytes < 0) {
            throw new IllegalArgumentException("pool " + name + ": need maxIdleBlocks >= 1 and maxIdleBytes >= 0, got "
                    + maxIdleBlocks + ", " + maxIdleBytes);
        }
        this.name = name;
        this.maxIdleBlocks = maxIdleBlocks;
        this.maxIdleBytes = maxIdleBytes;
    }

    /**
     * A direct native-order buffer of exactly {@code bytes} bytes (position 0, limit = capacity = bytes) whose first
     * byte is aligned to {@link #ALIGNMENT}: the smallest idle block that fits, or a new one.
     *
     * @throws IllegalArgumentException for a negative size or one no buffer can hold
     */
    public ByteBuffer acquire(int bytes) {
        ByteBuffer block = block(bytes);
        ByteBuffer view = block.slice(0, bytes).order(ByteOrder.nativeOrder());
        lend(view, block);
        return view;
    }

    /** Like {@link #acquire}, as a float buffer of exactly {@code count} values; release this buffer object. */
    public FloatBuffer acquireFloats(int count) {
        if (count < 0 || count > Integer.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException("pool " + name + ": cannot hand out a buffer of " + count + " floats");
        }
        ByteBuffer block = block(count * Float.BYTES);
        FloatBuffer view = block.slice(0, count * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        lend(view, block);
        return view;
    }

    /** Takes back a buffer this pool handed out; its contents must not be used afterwards. Others: ignored. */
    public synchronized void release(Buffer buffer) {
        if (buffer == null) {
            return;
        }
        for (Iterator<Loan> it = loans.iterator(); it.hasNext(); ) {
            Loan loan = it.next();
            Buffer held = loan.handle().get();
            if (held == null) {
                it.remove();  // collected without a release: its block went with it
            } else if (held == buffer) {
                it.remove();
                keep(loan.block());
                return;
            }
        }
    }

    /** Drops every idle block and keeps no block released later (their memory goes with the garbage collector). */
    public synchronized void clear() {
        cleared = true;
        idle.clear();
        idleBytes = 0;
    }

    /** Blocks allocated so far; a steady state allocates none. */
    public synchronized long allocations() {
        return allocations;
    }

    /** Buffers handed out, not yet released and not yet collected. */
    public synchronized int outstanding() {
        loans.removeIf(l -> l.handle().get() == null);
        return loans.size();
    }

    /** Idle blocks kept for reuse. */
    public synchronized int idleBlocks() {
        return idle.size();
    }

    private ByteBuffer block(int bytes) {
        if (bytes < 0 || bytes > Integer.MAX_VALUE - GRANULE - ALIGNMENT) {
            throw new IllegalArgumentException("pool " + name + ": cannot hand out a buffer of " + bytes + " bytes");
        }
        synchronized (this) {
            int best = -1;
            for (int i = 0; i < idle.size(); i++) {
                int cap = idle.get(i).capacity();
                if (cap >= bytes && (best < 0 || cap < idle.get(best).capacity())) {
                    best = i;
                }
            }
            if (best >= 0) {
                ByteBuffer block = idle.remove(best);
                idleBytes -= block.capacity();
                return block;
            }
            allocations++;
        }
        int size = (int) (((long) bytes + GRANULE - 1) / GRANULE * GRANULE);
        return ByteBuffer.allocateDirect(size + ALIGNMENT).alignedSlice(ALIGNMENT);
    }

    private synchronized void lend(Buffer view, ByteBuffer block) {
        loans.removeIf(l -> l.handle().get() == null);
        loans.add(new Loan(new WeakReference<>(view), block));
    }

    private void keep(ByteBuffer block) {
        if (!cleared && idle.size() < maxIdleBlocks && idleBytes + block.capacity() <= maxIdleBytes) {
            idle.add(block);
            idleBytes += block.capacity();
        }
    }

    @Override
    public synchronized String toString() {
        return "DirectBufferPool[" + name + ", " + idle.size() + " idle, " + loans.size() + " lent, " + allocations
                + " allocated]";
    }
}
