package dev.fcos4j.tensorrt;

import dev.fcos4j.ResourceClosedException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The slot pool's rules, with plain objects as slots (no GPU). */
class SlotPoolTest {
    /** A slot that records its index and whether it was freed. */
    static final class FakeSlot {
        final int index;
        volatile boolean freed;

        FakeSlot(int index) {
            this.index = index;
        }
    }

    final List<FakeSlot> created = Collections.synchronizedList(new ArrayList<>());

    SlotPool<FakeSlot> pool(int size) {
        return new SlotPool<>(size, k -> {
            FakeSlot s = new FakeSlot(k);
            created.add(s);
            return s;
        }, s -> {
            assertFalse(s.freed, "freed twice");
            s.freed = true;
        }, () -> new ResourceClosedException("closed"));
    }

    @Test
    void sequentialRunsReuseOneSlot() {
        SlotPool<FakeSlot> p = pool(2);
        for (int i = 0; i < 5; i++) {
            SlotPool.Lease<FakeSlot> l = p.run(lease -> lease);
            assertEquals(0, l.index());
            p.giveBack(l);
        }
        assertEquals(1, created.size());
        assertEquals(1, p.liveSlots());
    }

    @Test
    void concurrentLeasesGetDistinctIndicesAndTheNextWaits() throws Exception {
        SlotPool<FakeSlot> p = pool(2);
        SlotPool.Lease<FakeSlot> a = p.run(l -> l);
        SlotPool.Lease<FakeSlot> b = p.run(l -> l);
        assertEquals(List.of(0, 1), List.of(a.index(), b.index()));
        CompletableFuture<SlotPool.Lease<FakeSlot>> third = CompletableFuture.supplyAsync(() -> p.run(l -> l));
        Thread.sleep(200);
        assertFalse(third.isDone(), "a third lease while two are out");
        p.giveBack(b);
        SlotPool.Lease<FakeSlot> c = third.get(10, TimeUnit.SECONDS);
        assertSame(b.slot(), c.slot(), "the given-back slot is reused");
        assertEquals(2, created.size());
    }

    @Test
    void aFailingRunFreesItsSlotAndItsIndexIsUsedAgain() {
        SlotPool<FakeSlot> p = pool(1);
        RuntimeException e = assertThrows(IllegalStateException.class, () -> p.run(l -> {
            throw new IllegalStateException("enqueue failed");
        }));
        assertEquals("enqueue failed", e.getMessage());
        assertTrue(created.get(0).freed, "a slot whose run failed is not reused");
        assertEquals(0, p.liveSlots());
        SlotPool.Lease<FakeSlot> l = p.run(x -> x); // the permit came back too
        assertEquals(0, l.index());
        assertEquals(2, created.size());
    }

    @Test
    void aFailingCreationKeepsTheIndexFree() {
        AtomicInteger attempts = new AtomicInteger();
        SlotPool<FakeSlot> p = new SlotPool<>(1, k -> {
            if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("out of memory");
            }
            return new FakeSlot(k);
        }, s -> s.freed = true, () -> new ResourceClosedException("closed"));
        assertThrows(IllegalStateException.class, () -> p.run(l -> l));
        assertEquals(0, p.run(l -> l).index());
    }

    @Test
    void closeFreesIdleSlotsAndLeasedOnesWhenGivenBack() {
        SlotPool<FakeSlot> p = pool(2);
        SlotPool.Lease<FakeSlot> a = p.run(l -> l);
        SlotPool.Lease<FakeSlot> b = p.run(l -> l);
        p.giveBack(a);
        p.close();
        p.close();
        assertTrue(a.slot().freed, "idle slot freed on close");
        assertFalse(b.slot().freed, "a leased slot stays until its output is closed");
        assertThrows(ResourceClosedException.class, () -> p.run(l -> l));
        p.giveBack(b);
        assertTrue(b.slot().freed);
        assertEquals(0, p.liveSlots());
    }

    @Test
    void aCallerWaitingForASlotDoesNotHoldUpClose() throws Exception {
        SlotPool<FakeSlot> p = pool(1);
        SlotPool.Lease<FakeSlot> held = p.run(l -> l);
        CompletableFuture<SlotPool.Lease<FakeSlot>> waiter = CompletableFuture.supplyAsync(() -> p.run(l -> l));
        Thread.sleep(200);
        assertFalse(waiter.isDone());
        // The thread holding the only lease closes the pool before giving the lease back.
        assertTimeoutPreemptively(Duration.ofSeconds(10), p::close);
        p.giveBack(held);
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiter.get(10, TimeUnit.SECONDS));
        assertInstanceOf(ResourceClosedException.class, e.getCause());
        assertEquals(0, p.liveSlots());
    }

    @Test
    void closeWaitsForARunInProgress() throws Exception {
        SlotPool<FakeSlot> p = pool(1);
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        CompletableFuture<SlotPool.Lease<FakeSlot>> run = CompletableFuture.supplyAsync(() -> p.run(l -> {
            running.countDown();
            try {
                finish.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            done.set(true);
            return l;
        }));
        assertTrue(running.await(10, TimeUnit.SECONDS));
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
            p.close();
            assertTrue(done.get(), "close() returned while a run was in progress");
        });
        Thread.sleep(200);
        assertFalse(closing.isDone());
        finish.countDown();
        closing.get(10, TimeUnit.SECONDS);
        SlotPool.Lease<FakeSlot> l = run.get(10, TimeUnit.SECONDS);
        assertFalse(l.slot().freed, "the finished run's output still owns its slot");
        p.giveBack(l);
        assertTrue(l.slot().freed);
    }

    @Test
    void giveBackRacingCloseNeverLeavesASlotBehind() throws Exception {
        for (int i = 0; i < 300; i++) {
            created.clear();
            SlotPool<FakeSlot> p = pool(2);
            SlotPool.Lease<FakeSlot> a = p.run(l -> l);
            SlotPool.Lease<FakeSlot> b = p.run(l -> l);
            CountDownLatch go = new CountDownLatch(1);
            CompletableFuture<Void> back = CompletableFuture.runAsync(() -> {
                await(go);
                p.giveBack(a);
                p.giveBack(b);
            });
            CompletableFuture<Void> close = CompletableFuture.runAsync(() -> {
                await(go);
                p.close();
            });
            go.countDown();
            back.get(10, TimeUnit.SECONDS);
            close.get(10, TimeUnit.SECONDS);
            assertEquals(0, p.liveSlots(), "iteration " + i);
            assertTrue(a.slot().freed && b.slot().freed, "iteration " + i);
        }
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
