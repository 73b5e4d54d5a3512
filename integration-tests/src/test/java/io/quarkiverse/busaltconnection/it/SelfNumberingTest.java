package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Sends outside a transaction from other instances number their own messages when they can, racing one another, the
 * sequencer's runs and the sends of the sequencer's own instance. Here the test's threads stand for those instances:
 * each runs the statement such a send runs ({@link BusTable#insertOneNumbering()}) on a connection of its own, one
 * message after the other, while the application (the sequencer's instance) sends too. Whoever numbers them, every
 * message gets exactly one position, the positions have no gaps, and each thread's messages are in its send order.
 * The sweep is an hour away: only wake-ups, the runs they ask for and the senders number anything.
 */
@QuarkusTest
@TestProfile(ProbeIntervalDisabledTest.IntervalDisabled.class)
class SelfNumberingTest {

    private static final int THREADS = 6;
    private static final int MESSAGES = 120;

    @Inject
    BusStatus status;

    @Inject
    BusTable table;

    @Test
    void racingSendersAndRunsGiveEachMessageOnePositionWithoutGaps() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(status::sequencing);
        String run = DeliveryTest.unique("self");
        AtomicInteger numberedBySenders = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(THREADS + 1);
        try {
            List<CompletableFuture<Void>> sends = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                sends.add(CompletableFuture.runAsync(() -> sendAlone(run, thread, numberedBySenders), threads));
            }
            // The sequencer's own instance sends meanwhile: its messages are numbered by runs.
            sends.add(CompletableFuture.runAsync(() -> IntStream.range(0, MESSAGES / 2).forEach(i -> {
                DeliveryTest.send("numbering", run + ":app:" + i);
                pause(ThreadLocalRandom.current().nextInt(10));
            }), threads));
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
        }
        int total = THREADS * MESSAGES + MESSAGES / 2;
        await().atMost(Duration.ofSeconds(20)).until(() -> numbered(run).size() == total);
        assertTrue(numberedBySenders.get() > 0, "no send numbered its own message");

        List<String[]> numbered = numbered(run);
        for (int thread = 0; thread < THREADS; thread++) {
            assertInSendOrder(numbered, run + ":" + thread + ":", MESSAGES);
        }
        assertInSendOrder(numbered, run + ":app:", MESSAGES / 2);
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement check = connection.prepareStatement("SELECT count(*), count(DISTINCT position),"
                        + " max(position) - min(position) + 1, (SELECT count(*) FROM (SELECT xid, id FROM"
                        + " imdispatcher_bus_positions GROUP BY xid, id HAVING count(*) > 1) d)"
                        + " FROM imdispatcher_bus_positions WHERE position BETWEEN ? AND ?")) {
            check.setLong(1, Long.parseLong(numbered.get(0)[1]));
            check.setLong(2, Long.parseLong(numbered.get(numbered.size() - 1)[1]));
            try (ResultSet counts = check.executeQuery()) {
                counts.next();
                assertEquals(counts.getLong(3), counts.getLong(1), "positions missing (a gap) in the run's range");
                assertEquals(counts.getLong(1), counts.getLong(2), "a position given twice");
                assertEquals(0, counts.getLong(4), "a message numbered twice");
            }
        }
    }

    /**
     * A run that read the state row before a sender numbered its own message waits for that sender's commit (the
     * sender holds the row) and then must not hand out the sender's positions again: it writes nothing and runs again.
     * Here the sender's commit is held back (its statement runs in a transaction the test commits later), and the run
     * is one the application's own send asks for.
     */
    @Test
    void aRunThatFindsTheStateRowChangedBySenderWritesNothingAndRunsAgain() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(status::sequencing);
        String run = DeliveryTest.unique("held");
        try (Connection sender = DurableBusTest.direct();
                Connection watcher = DurableBusTest.direct();
                PreparedStatement send = sender.prepareStatement(table.insertOneNumbering());
                PreparedStatement waiting = watcher.prepareStatement("SELECT wait_event_type = 'Lock' FROM"
                        + " pg_stat_activity WHERE pid = ?")) {
            sender.setAutoCommit(false);
            Long own = null;
            for (int attempt = 0; attempt < 50 && own == null; attempt++) {
                bind(send, run + ":sender");
                try (ResultSet answer = send.executeQuery()) {
                    answer.next();
                    long position = answer.getLong(1);
                    own = answer.wasNull() ? null : position;
                }
                if (own == null) {
                    // The sequencer looked on its own, or something waited for a position: not this time.
                    sender.rollback();
                    pause(100);
                }
            }
            assertTrue(own != null, "the sender never numbered its own message");
            CompletableFuture<Void> appSend = CompletableFuture.runAsync(() -> DeliveryTest.send("numbering",
                    run + ":app"));
            waiting.setInt(1, status.backendPid());
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                try (ResultSet blocked = waiting.executeQuery()) {
                    return blocked.next() && blocked.getBoolean(1);
                }
            });
            sender.commit();
            appSend.get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> numbered(run).size() == 2);
            List<String[]> numbered = numbered(run);
            assertEquals(run + ":sender", numbered.get(0)[0]);
            assertEquals(String.valueOf(own), numbered.get(0)[1], "the sender's position");
            assertTrue(Long.parseLong(numbered.get(1)[1]) > own, "the run's position after the sender's");
            try (PreparedStatement twice = watcher.prepareStatement("SELECT count(*) FROM imdispatcher_bus_positions"
                    + " WHERE position = ?")) {
                twice.setLong(1, own);
                try (ResultSet count = twice.executeQuery()) {
                    count.next();
                    assertEquals(1, count.getLong(1), "the sender's position given again by the run");
                }
            }
        }
    }

    /** One thread of another instance: sends outside a transaction, one after the other, at an uneven pace. */
    private void sendAlone(String run, int thread, AtomicInteger numberedBySenders) {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement send = connection.prepareStatement(table.insertOneNumbering())) {
            for (int i = 0; i < MESSAGES; i++) {
                bind(send, run + ":" + thread + ":" + i);
                try (ResultSet answer = send.executeQuery()) {
                    assertTrue(answer.next(), "the send's statement gave no answer");
                    answer.getLong(1);
                    if (!answer.wasNull()) {
                        numberedBySenders.incrementAndGet();
                    }
                }
                pause(ThreadLocalRandom.current().nextInt(60));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Each message of {@code run} that has a position: payload and position, in position order. */
    private static List<String[]> numbered(String run) throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement query = connection.prepareStatement("SELECT b.payload, p.position FROM"
                        + " imdispatcher_bus_positions p JOIN imdispatcher_bus b ON b.xid = p.xid AND b.id = p.id"
                        + " WHERE b.payload LIKE ? ORDER BY p.position")) {
            query.setString(1, run + ":%");
            List<String[]> rows = new ArrayList<>();
            try (ResultSet result = query.executeQuery()) {
                while (result.next()) {
                    rows.add(new String[] { result.getString(1), String.valueOf(result.getLong(2)) });
                }
            }
            return rows;
        }
    }

    private static void assertInSendOrder(List<String[]> numbered, String prefix, int count) {
        List<String> expected = IntStream.range(0, count).mapToObj(i -> prefix + i).toList();
        assertEquals(expected, numbered.stream().map(row -> row[0]).filter(p -> p.startsWith(prefix)).toList(),
                "lost, doubled or out of send order: " + prefix);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The parameters of {@link BusTable#insertOneNumbering()} for {@code payload} on the channel "numbering", from an
     * instance that has read no head yet.
     */
    private void bind(PreparedStatement send, String payload) throws SQLException {
        send.setString(1, "numbering");
        send.setString(2, payload);
        send.setString(3, null);
        send.setString(4, null);
        send.setString(5, table.writtenChannel());
        send.setString(6, table.headChannel());
        send.setLong(7, 0);
    }
}
