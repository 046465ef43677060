package dev.fcos4j.memory;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectBufferPoolTest {
    private static long address(java.nio.Buffer b) {
        return new Pointer(b).address();
    }

    @Test
    void buffersHaveExactlyTheAskedSizeAlignedAndNativeOrder() {
        DirectBufferPool pool = new DirectBufferPool("test", 2, 1L << 30);
        for (int bytes : new int[] {0, 1, 63, 64, 1000, (1 << 20) + 3}) {
            ByteBuffer b = pool.acquire(bytes);
            assertTrue(b.isDirect());
            assertEquals(ByteOrder.nativeOrder(), b.order());
            assertEquals(bytes, b.capacity());
            assertEquals(0, b.position());
            assertEquals(bytes, b.limit());
            if (bytes > 0) {
                assertEquals(0, address(b) % DirectBufferPool.ALIGNMENT, "aligned start of " + bytes + " bytes");
            }
        }
        FloatBuffer f = pool.acquireFloats(12345);
        assertTrue(f.isDirect());
        assertEquals(12345, f.capacity());
        assertEquals(ByteOrder.nativeOrder(), f.order());
        assertEquals(0, address(f) % DirectBufferPool.ALIGNMENT);
    }

    @Test
    void aReleasedBlockServesTheNextFittingRequest() {
        DirectBufferPool pool = new DirectBufferPool("test", 2, 1L << 30);
        FloatBuffer first = pool.acquireFloats(1_000_000);
        long at = address(first);
        pool.release(first);
        assertEquals(1, pool.idleBlocks());
        // a slightly smaller request (another image size) reuses the same memory
        FloatBuffer second = pool.acquireFloats(999_000);
        assertEquals(at, address(second));
        assertEquals(1, pool.allocations());
        assertEquals(0, pool.idleBlocks());
        // a larger one than any idle block needs a new block
        pool.release(second);
        FloatBuffer larger = pool.acquireFloats(3_000_000);
        assertEquals(2, pool.allocations());
        assertEquals(1, pool.idleBlocks(), "the small block stays idle");
        pool.release(larger);
        assertEquals(2, pool.idleBlocks());
    }

    @Test
    void theSmallestFittingIdleBlockIsChosen() {
        DirectBufferPool pool = new DirectBufferPool("test", 4, 1L << 30);
        ByteBuffer big = pool.acquire(8 << 20);
        ByteBuffer small = pool.acquire(2 << 20);
        long smallAt = address(small);
        pool.release(big);
        pool.release(small);
        assertEquals(smallAt, address(pool.acquire(1 << 20)));
    }

    @Test
    void foreignAndRepeatedReleasesAreIgnored() {
        DirectBufferPool pool = new DirectBufferPool("test", 4, 1L << 30);
        ByteBuffer b = pool.acquire(100);
        pool.release(ByteBuffer.allocateDirect(100));
        pool.release(b.duplicate());  // another object over the same memory is not the loan
        pool.release(null);
        assertEquals(0, pool.idleBlocks());
        assertEquals(1, pool.outstanding());
        pool.release(b);
        pool.release(b);
        assertEquals(1, pool.idleBlocks(), "a second release must not put the block in twice");
        assertEquals(0, pool.outstanding());
        ByteBuffer again = pool.acquire(100);
        ByteBuffer other = pool.acquire(100);
        assertNotSame(again, other);
        assertTrue(address(again) != address(other), "two loans never share memory");
    }

    @Test
    void idleLimitsAreKept() {
        DirectBufferPool byCount = new DirectBufferPool("test", 2, 1L << 30);
        ByteBuffer[] loans = {byCount.acquire(10), byCount.acquire(10), byCount.acquire(10)};
        for (ByteBuffer b : loans) {
            byCount.release(b);
        }
        assertEquals(2, byCount.idleBlocks());

        DirectBufferPool byBytes = new DirectBufferPool("test", 8, 3L << 20);
        ByteBuffer a = byBytes.acquire(2 << 20);
        ByteBuffer c = byBytes.acquire(2 << 20);
        byBytes.release(a);
        byBytes.release(c);
        assertEquals(1, byBytes.idleBlocks(), "two 2 MiB blocks exceed 3 MiB");
    }

    @Test
    void clearDropsIdleBlocksAndKeepsNoneLater() {
        DirectBufferPool pool = new DirectBufferPool("test", 4, 1L << 30);
        ByteBuffer a = pool.acquire(10);
        ByteBuffer b = pool.acquire(10);
        pool.release(a);
        pool.clear();
        assertEquals(0, pool.idleBlocks());
        pool.release(b);
        assertEquals(0, pool.idleBlocks());
        assertEquals(0, pool.outstanding());
    }

    @Test
    void concurrentLoansNeverShareMemory() throws Exception {
        // Each thread stamps its loan with its own id, yields, and checks the stamp is still whole: two live loans
        // over the same bytes would overwrite each other.
        // Sizes within one 1 MiB granule and as many idle blocks as threads: a block is allocated only while every
        // existing one is lent, so at most one per thread ever is.
        int threads = 4;
        DirectBufferPool pool = new DirectBufferPool("test", threads, 1L << 30);
        java.util.concurrent.ExecutorService exec = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            java.util.List<java.util.concurrent.Future<Integer>> results = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t + 1;
                results.add(exec.submit(() -> {
                    java.util.Random r = new java.util.Random(id);
                    int checked = 0;
                    for (int i = 0; i < 300; i++) {
                        FloatBuffer b = pool.acquireFloats(1000 + r.nextInt(250_000));
                        for (int k = 0; k < b.capacity(); k += 97) {
                            b.put(k, id);
                        }
                        Thread.yield();
                        for (int k = 0; k < b.capacity(); k += 97) {
                            if (b.get(k) != id) {
                                throw new AssertionError("loan of thread " + id + " overwritten by " + b.get(k));
                            }
                        }
                        pool.release(b);
                        checked++;
                    }
                    return checked;
                }));
            }
            for (java.util.concurrent.Future<Integer> f : results) {
                assertEquals(300, f.get(2, java.util.concurrent.TimeUnit.MINUTES));
            }
        } finally {
            exec.shutdownNow();
        }
        assertEquals(0, pool.outstanding());
        assertTrue(pool.allocations() <= threads, "blocks are reused: " + pool);
        assertEquals(pool.allocations(), pool.idleBlocks(), "every block came back");
    }

    @Test
    void badArgumentsAreRejectedWithTheirValues() {
        assertThrows(IllegalArgumentException.class, () -> new DirectBufferPool("x", 0, 1));
        DirectBufferPool pool = new DirectBufferPool("input", 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.acquire(-1));
        assertTrue(e.getMessage().contains("input") && e.getMessage().contains("-1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> pool.acquireFloats(Integer.MAX_VALUE));
    }
}
