package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Each sequencer run costs a transaction id and a commit flush. One sender waiting for each commit, at about 650
 * messages a second, met a run of its own every message or two; while messages come at 400 a second or faster the
 * sequencer now lets about 16 gather for each run (at most {@code quarkus.imdispatcher.bus.sequencer-linger}, 40 ms),
 * and says how long it waits in its run-spacing gauge. A slower sender still meets a run per message: it would wait for
 * the gathering. With the linger 0 ({@link SequencerLingerOffTest}) a fast sender meets runs of its own again.
 * <p>
 * Only while messages come fast does the sequencer look on its own (and tell the senders so); slower, it waits for
 * their wake-ups.
 */
@QuarkusTest
class SequencerFillTest {

    @Inject
    Bus bus;

    @Test
    void aFastSendersMessagesShareRunsAndTheGaugeSaysHowLongTheyGather() throws Exception {
        String fast = DeliveryTest.unique("fast");
        double gathering = send(bus, fast, 1_200, TimeUnit.MICROSECONDS.toNanos(1_500), true);
        long runs = runs(fast, 1_200);
        assertTrue(1_200.0 / runs >= 6, runs + " runs numbered 1,200 messages sent 650 a second");
        assertTrue(gathering > 0 && gathering <= 0.040, "run spacing while they came: " + gathering + " s");

        String slow = DeliveryTest.unique("slow");
        send(bus, slow, 60, TimeUnit.MILLISECONDS.toNanos(20), false);
        long slowRuns = runs(slow, 60);
        assertTrue(slowRuns >= 50, slowRuns + " runs numbered 60 messages sent 50 a second: they waited to gather");
    }

    /**
     * While messages come fast the sequencer looks on its own, and tells the senders of other instances so in the state
     * row ({@code awake_until} ahead): they send no wake-up. While they come at 50 a second it tells them that it does
     * not, and waits for their wake-ups, which their own statements carry: a commit then needs no poll to be found.
     */
    @Test
    void theSequencerLooksOnItsOwnOnlyWhileMessagesComeFast() throws Exception {
        double fast = awakeShare(() -> send(bus, DeliveryTest.unique("fast-look"), 600,
                TimeUnit.MICROSECONDS.toNanos(1_500), false));
        assertTrue(fast >= 0.6, "the state row said the sequencer looks on its own in " + fast
                + " of the samples while messages came 650 a second");
        send(bus, DeliveryTest.unique("slow-start"), 10, TimeUnit.MILLISECONDS.toNanos(20), false);
        double slow = awakeShare(() -> send(bus, DeliveryTest.unique("slow-look"), 100,
                TimeUnit.MILLISECONDS.toNanos(20), false));
        assertTrue(slow <= 0.2, "the state row said the sequencer looks on its own in " + slow
                + " of the samples while messages came 50 a second");
    }

    /** The share of samples, every 5 ms while {@code sending} runs, in which the state row's time is ahead. */
    private static double awakeShare(Runnable sending) throws Exception {
        AtomicInteger samples = new AtomicInteger();
        AtomicInteger ahead = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        Thread sampler = new Thread(() -> {
            try (Connection connection = DurableBusTest.direct();
                    PreparedStatement awake = connection.prepareStatement("SELECT awake_until > clock_timestamp()"
                            + " FROM imdispatcher_bus_state")) {
                while (!done.get()) {
                    try (ResultSet row = awake.executeQuery()) {
                        row.next();
                        samples.incrementAndGet();
                        if (row.getBoolean(1)) {
                            ahead.incrementAndGet();
                        }
                    }
                    Thread.sleep(5);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        sampler.start();
        try {
            sending.run();
        } finally {
            done.set(true);
            sampler.join();
        }
        assertTrue(samples.get() >= 20, "only " + samples.get() + " samples");
        return (double) ahead.get() / samples.get();
    }

    /**
     * Sends {@code count} messages on {@code channel} from one thread, each due {@code gap} ns after the last (at once
     * when late); if {@code scrape}, the largest run spacing the metrics showed in the second half.
     */
    static double send(Bus bus, String channel, int count, long gap, boolean scrape) {
        long due = System.nanoTime();
        double most = 0;
        for (int i = 0; i < count; i++) {
            LockSupport.parkNanos(due - System.nanoTime());
            due += gap;
            bus.send(channel, "m" + i);
            if (scrape && i > count / 2 && i % 100 == 0) {
                most = Math.max(most, PrometheusScrape.valueOrZero("imdispatcher_sequencer_run_spacing_seconds"));
            }
        }
        return most;
    }

    /** The sequencer runs that numbered the channel's messages, once all {@code count} are numbered. */
    static long runs(String channel, int count) {
        String query = "SELECT count(*), count(DISTINCT p.numbered_at) FROM imdispatcher_bus b"
                + " JOIN imdispatcher_bus_positions p ON p.xid = b.xid AND p.id = b.id WHERE b.channel = ?";
        long[] counted = new long[2];
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            try (Connection connection = DurableBusTest.direct();
                    PreparedStatement statement = connection.prepareStatement(query)) {
                statement.setString(1, channel);
                try (ResultSet row = statement.executeQuery()) {
                    row.next();
                    counted[0] = row.getLong(1);
                    counted[1] = row.getLong(2);
                }
            }
            return counted[0] == count;
        });
        assertEquals(count, counted[0]);
        return counted[1];
    }
}
