package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The bus engine under the faults that matter: many concurrent senders, killed listener and sequencer backends,
 * rolled-back senders, an unrelated transaction left open, forged notifications, listeners that finish later.
 */
@QuarkusTest
class BusEngineTest {

    private static final int SENDERS = 32;
    private static final int PER_SENDER = 40;

    @Inject
    Bus bus;

    @Inject
    BusStatus status;

    /** One committed (or rolled-back) transaction of the test's senders. */
    record Sent(List<String> payloads, long begin, long commit, boolean committed) {
    }

    @Test
    void concurrentSendersExactlyOnceInCausalOrderThroughKillsRollbacksAndAnOpenTransaction() throws Exception {
        String run = DeliveryTest.unique("cc");
        ConcurrentLinkedQueue<Sent> sent = new ConcurrentLinkedQueue<>();
        try (Connection unrelated = DurableBusTest.direct()) {
            // Left open for the whole test, with a transaction id: a reader that waited for the oldest open
            // transaction (the snapshot's xmin) would stall behind it.
            unrelated.setAutoCommit(false);
            try (Statement statement = unrelated.createStatement()) {
                statement.execute("SELECT pg_current_xact_id()");
            }
            ExecutorService senders = Executors.newFixedThreadPool(SENDERS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> running = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                int sender = s;
                running.add(senders.submit(() -> {
                    start.await();
                    for (int i = 0; i < PER_SENDER; i++) {
                        sent.add(sendOne(run, sender, i));
                    }
                    return null;
                }));
            }
            start.countDown();
            int kills = 0;
            while (running.stream().anyMatch(f -> !f.isDone())) {
                Thread.sleep(250);
                int pid = status.backendPid();
                if (pid > 0 && status.sequencing() && terminate(pid)) {
                    kills++;
                }
            }
            for (Future<?> future : running) {
                future.get();
            }
            senders.shutdown();
            assertTrue(kills >= 2, "the listening (and sequencing) backend was killed only " + kills + " time(s)");

            Set<String> committed = new HashSet<>();
            Set<String> rolledBack = new HashSet<>();
            sent.forEach(tx -> (tx.committed() ? committed : rolledBack).addAll(tx.payloads()));
            assertFalse(rolledBack.isEmpty());
            await().atMost(Duration.ofSeconds(60)).until(() -> received(run).size() >= committed.size());
            Thread.sleep(500);
            List<String[]> received = received(run);

            List<String> payloads = received.stream().map(r -> r[0]).toList();
            assertEquals(committed.size(), payloads.size(), "duplicates or extras: " + payloads.size() + " received");
            assertEquals(committed, new HashSet<>(payloads), "lost or rolled-back messages delivered");
            long[] positions = received.stream().mapToLong(r -> Long.parseLong(r[1])).toArray();
            for (int i = 1; i < positions.length; i++) {
                assertTrue(positions[i] > positions[i - 1], "positions not increasing at " + i + ": "
                        + positions[i - 1] + ", " + positions[i]);
            }
            assertCausalOrder(sent, received);
        }
    }

    private Sent sendOne(String run, int sender, int i) {
        String base = run + ":" + sender + ":" + i;
        long begin = System.nanoTime();
        if (i % 9 == 4) {
            // Rolled back: never delivered.
            try {
                QuarkusTransaction.requiringNew().run(() -> {
                    bus.send(Channels.CONCURRENCY, base + ":rb");
                    throw new IllegalStateException("roll back on purpose");
                });
            } catch (RuntimeException expected) {
                // rolled back
            }
            return new Sent(List.of(base + ":rb"), begin, System.nanoTime(), false);
        }
        if (i % 5 == 2) {
            // Several messages in one transaction arrive in send order.
            List<String> payloads = List.of(base + ":a", base + ":b", base + ":c");
            QuarkusTransaction.requiringNew().run(() -> payloads.forEach(p -> bus.send(Channels.CONCURRENCY, p)));
            return new Sent(payloads, begin, System.nanoTime(), true);
        }
        bus.send(Channels.CONCURRENCY, base);
        return new Sent(List.of(base), begin, System.nanoTime(), true);
    }

    /**
     * A message of a transaction that began after another committed comes after that one's; a transaction's
     * messages come in send order.
     */
    private static void assertCausalOrder(ConcurrentLinkedQueue<Sent> sent, List<String[]> received) {
        Map<String, Long> position = new HashMap<>();
        received.forEach(r -> position.put(r[0], Long.parseLong(r[1])));
        List<Sent> committed = sent.stream().filter(Sent::committed).sorted(Comparator.comparingLong(Sent::commit))
                .toList();
        long[] commits = committed.stream().mapToLong(Sent::commit).toArray();
        // highest[i]: the highest position among the transactions that committed first, up to the i-th.
        long[] highest = new long[committed.size()];
        long max = 0;
        for (int i = 0; i < committed.size(); i++) {
            List<String> payloads = committed.get(i).payloads();
            for (int j = 1; j < payloads.size(); j++) {
                assertTrue(position.get(payloads.get(j)) > position.get(payloads.get(j - 1)),
                        "a transaction's messages out of send order: " + payloads);
            }
            max = Math.max(max, position.get(payloads.get(payloads.size() - 1)));
            highest[i] = max;
        }
        for (Sent later : committed) {
            int before = Arrays.binarySearch(commits, later.begin());
            int count = before >= 0 ? before : -before - 1;
            if (count > 0) {
                long first = position.get(later.payloads().get(0));
                assertTrue(first > highest[count - 1], later.payloads().get(0) + " at " + first
                        + " began after a transaction committed at position " + highest[count - 1]);
            }
        }
    }

    @Test
    void forgedNotificationsOfEveryShapeDeliverNothingAndLoseNothing() throws Exception {
        long head = status.head();
        List<String> shapes = List.of("", "garbage", "{}", "[]", "null", "0", "-1", "1e400", "9223372036854775807",
                String.valueOf(head + 1_000_000),
                "{\"f\":1,\"l\":999999999,\"m\":[{\"i\":999999999,\"c\":\"greetings\",\"p\":\"forged\",\"t\":0}]}",
                "{\"f\":" + (head + 1) + ",\"l\":" + (head + 1) + ",\"m\":[{\"i\":" + (head + 1)
                        + ",\"c\":\"greetings\",\"p\":\"forged\",\"t\":0}]}",
                "{\"h\":999999999,\"c\":[\"greetings\",\"sequence\"]}", "{\"h\":\"x\",\"c\":7}",
                "forged", "x".repeat(7_999));
        List<String> channels = List.of("imdispatcher_bus", "imdispatcher_bus_head", "imdispatcher_bus_probe",
                "greetings", Channels.CONCURRENCY, Channels.SEQUENCE);
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement notify = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            for (int round = 0; round < 3; round++) {
                for (String channel : channels) {
                    for (String payload : shapes) {
                        notify.setString(1, channel);
                        notify.setString(2, payload);
                        notify.execute();
                    }
                }
            }
        }
        String run = DeliveryTest.unique("after-forgery");
        IntStream.range(0, 5).forEach(i -> bus.send(Channels.SEQUENCE, run + ":" + i));
        await().atMost(Duration.ofSeconds(10)).until(() -> mine("sequence", run).size() == 5);
        assertEquals(IntStream.range(0, 5).mapToObj(i -> run + ":" + i).toList(), mine("sequence", run));
        for (String listener : List.of("greetings", "sequence", "sequence-event-loop", "concurrency")) {
            List<String> got = DeliveryTest.received(listener);
            assertFalse(got.stream().anyMatch(e -> e.contains("forged") || e.contains("garbage")),
                    listener + " received a forged notification");
        }
        assertTrue(status.listening());
        assertTrue(status.head() < head + 1_000, "a forged head moved the instance's head to " + status.head());
    }

    /**
     * A replayed or forged head hint makes each instance read the state row (once, however many arrive meanwhile), and
     * only readers behind the head read their channel: a flood of hints, with and without channels, makes no page
     * read. Counted by PostgreSQL: scans of the indexes every page read uses ({@code pg_stat_user_indexes}), less those
     * of a stretch as long without hints.
     */
    @Test
    void aFloodOfForgedHeadHintsCostsNoPageReads() throws Exception {
        String everyChannel = "{\"h\":" + (status.head() + 1_000) + "}";
        String named = "{\"h\":" + (status.head() + 1_000) + ",\"c\":[\"greetings\",\"" + Channels.SEQUENCE + "\",\""
                + Channels.CONCURRENCY + "\"]}";
        int hints = 100;
        long reads = -1;
        // A message another test left behind (a dead letter, a retry given up) moves the head during the count, and
        // then every reader reads once, as it must: counted again.
        for (int attempt = 0; attempt < 3; attempt++) {
            // Every reader at the head first: one hint for every channel makes each reader that other channels'
            // messages left behind the head read once (that read is due, hint or not); then nothing else may be
            // reading (a slow listener of another test draining its backlog, say).
            notifyHead(everyChannel);
            // What the bus's own rounds read meanwhile (the sweep's checks may use the same indexes), in a stretch
            // as long without hints.
            long quiet = DurableBusTest.quietPageReads();
            Thread.sleep(hints * 10 + 2_500);
            long idle = DurableBusTest.pageReads() - quiet;
            long before = DurableBusTest.pageReads();
            long head = status.head();
            try (Connection connection = DurableBusTest.direct();
                    PreparedStatement notify = connection.prepareStatement(
                            "SELECT pg_notify('imdispatcher_bus_head', ?)")) {
                for (int i = 0; i < hints; i++) {
                    notify.setString(1, i % 2 == 0 ? everyChannel : named);
                    notify.execute();
                    // Apart, so that each could make every reader read.
                    Thread.sleep(10);
                }
            }
            // A backend reports its counts to PostgreSQL's statistics at most once a second.
            Thread.sleep(2_500);
            reads = DurableBusTest.pageReads() - before - idle;
            if (status.head() == head) {
                break;
            }
        }
        assertTrue(reads < 10, hints + " forged head hints made " + reads + " page reads");
        assertTrue(status.listening());
    }

    /**
     * A head hint that names only channels no reader of this instance reads makes no read of the state row: in a fleet
     * whose instances read other channels, a run costs them PostgreSQL's signal and nothing more. The same hints naming
     * a channel a listener here reads are each answered with one. Counted by PostgreSQL (scans of the state table),
     * against a stretch as long without hints (the sweep reads it each second).
     */
    @Test
    void hintsForChannelsNobodyHereReadsAreNotAnswered() throws Exception {
        long none = 0;
        long unrelated = 0;
        long related = 0;
        // Another test's work finishing (a backlog drained, retries, a sweep) reads the state row too, a few reads
        // more or less in any window: measured again. Answering each unrelated hint adds 40 reads in every attempt.
        for (int attempt = 0; attempt < 4; attempt++) {
            awaitQuietStateRow();
            none = stateReadsDuring(null);
            unrelated = stateReadsDuring("{\"h\":1,\"c\":[\"nobody-reads-this\"]}");
            related = stateReadsDuring("{\"h\":1,\"c\":[\"greetings\"]}");
            if (none <= 20 && unrelated <= none + 8 && related >= none + 25) {
                break;
            }
        }
        String counts = String.format("state row reads: %d without hints, %d with hints for a channel nobody here"
                + " reads, %d with hints for 'greetings'", none, unrelated, related);
        assertTrue(unrelated <= none + 8, counts);
        assertTrue(related >= none + 25, counts);
    }

    /** Reads of the state row while 40 hints (or none) arrive 50 ms apart, and until PostgreSQL has counted them. */
    private static long stateReadsDuring(String hint) throws Exception {
        long before = stateReads();
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('imdispatcher_bus_head', ?)")) {
            for (int i = 0; i < 40; i++) {
                if (hint != null) {
                    notify.setString(1, hint);
                    notify.execute();
                }
                Thread.sleep(50);
            }
        }
        // A backend reports its counts to PostgreSQL's statistics at most once a second.
        Thread.sleep(2_500);
        return stateReads() - before;
    }

    /** Until the state row is read no more than the sweep reads it (once a second), at most half a minute. */
    private static void awaitQuietStateRow() throws Exception {
        long last = stateReads();
        for (int i = 0; i < 25; i++) {
            Thread.sleep(1_200);
            long now = stateReads();
            if (now - last <= 3) {
                return;
            }
            last = now;
        }
    }

    private static long stateReads() throws SQLException {
        try (Connection connection = DurableBusTest.direct();
                Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT seq_scan + coalesce(idx_scan, 0) FROM"
                        + " pg_stat_user_tables WHERE relname = 'imdispatcher_bus_state'")) {
            row.next();
            return row.getLong(1);
        }
    }

    private static void notifyHead(String payload) throws SQLException {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('imdispatcher_bus_head', ?)")) {
            notify.setString(1, payload);
            notify.execute();
        }
    }

    @Test
    void aSequencerThatHoldsTheLockButNumbersNothingIsReplaced() throws Exception {
        // A "wedged sequencer": a session that takes the sequencer's lock the moment the instance's connection dies,
        // and then does nothing.
        Connection wedged = DurableBusTest.direct();
        try {
            // A bus instance by its application_name: one that is not would be named, not ended (see below).
            try (Statement statement = wedged.createStatement()) {
                statement.execute("SET application_name = 'imdispatcher'");
            }
            CompletableFuture<Void> locked = CompletableFuture.runAsync(() -> {
                try (Statement statement = wedged.createStatement()) {
                    statement.execute("SELECT pg_advisory_lock(hashtext('imdispatcher_bus'), 1)");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> status.sequencing());
            Thread.sleep(200);
            assertTrue(terminate(status.backendPid()));
            locked.get(10, java.util.concurrent.TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> status.listening());
            // The instance notices that its lock went with its old connection just after it listens again.
            await().atMost(Duration.ofSeconds(5)).until(() -> !status.sequencing());

            String run = DeliveryTest.unique("wedged");
            // In a transaction, so that only a sequencer numbers it (alone, a send numbers its own message while
            // nothing else waits).
            QuarkusTransaction.requiringNew().run(() -> bus.send(Channels.SEQUENCE, run + ":0"));
            // Replaced after the stall timeout (3 s in the demo), then numbered and delivered.
            await().atMost(Duration.ofSeconds(20)).until(() -> mine("sequence", run).size() == 1);
            assertTrue(status.sequencing());
            assertThrows(SQLException.class, () -> wedged.createStatement().execute("SELECT 1"),
                    "the wedged session's connection should have been ended");
        } finally {
            wedged.close();
        }
    }

    /**
     * A session that is not an instance of the bus (another application_name: a job that took the same advisory lock)
     * holds the sequencer's lock: after the stall timeout it is named at ERROR with what to do, and left alone; once it
     * lets go, the instance sequences again and nothing was lost.
     */
    @Test
    void aForeignSessionHoldingTheSequencersLockIsNamedAndLeftAlone() throws Exception {
        List<String> errors = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    errors.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger sequencerLog = java.util.logging.Logger.getLogger(
                "io.quarkiverse.busaltconnection.runtime.sequence.Sequencer");
        sequencerLog.addHandler(handler);
        String run = DeliveryTest.unique("foreign-holder");
        try (Connection foreign = DurableBusTest.direct()) {
            int foreignPid;
            try (Statement statement = foreign.createStatement()) {
                statement.execute("SET application_name = 'report-job'");
                try (ResultSet pid = statement.executeQuery("SELECT pg_backend_pid()")) {
                    pid.next();
                    foreignPid = pid.getInt(1);
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> status.sequencing());
            CompletableFuture<Void> locked = CompletableFuture.runAsync(() -> {
                try (Statement statement = foreign.createStatement()) {
                    statement.execute("SELECT pg_advisory_lock(hashtext('imdispatcher_bus'), 1)");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(200);
            assertTrue(terminate(status.backendPid()));
            locked.get(10, java.util.concurrent.TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> status.listening());
            // In a transaction, so that only a sequencer numbers it.
            QuarkusTransaction.requiringNew().run(() -> bus.send(Channels.SEQUENCE, run + ":0"));
            // The stall timeout is 3 s in the demo.
            await().atMost(Duration.ofSeconds(20)).until(() -> errors.stream().anyMatch(e -> e.contains("backend pid "
                    + foreignPid) && e.contains("not an instance of this bus")
                    && e.contains("pg_terminate_backend(" + foreignPid + ")")));
            try (Statement statement = foreign.createStatement(); ResultSet alive = statement.executeQuery("SELECT 1")) {
                assertTrue(alive.next(), "the foreign session was ended");
            }
            assertFalse(status.sequencing());
            assertEquals(List.of(), mine("sequence", run));
        } finally {
            sequencerLog.removeHandler(handler);
        }
        // Let go (the session ended): the instance sequences at its next sweep and delivers.
        await().atMost(Duration.ofSeconds(20)).until(() -> mine("sequence", run).size() == 1);
        assertTrue(status.sequencing());
        assertEquals(1, errors.stream().filter(e -> e.contains("not an instance of this bus")).count(),
                "said more than once: " + errors);
    }

    @Test
    void aListenerReturningAStageGetsTheNextMessageOnlyWhenTheStageCompleted() {
        String run = DeliveryTest.unique("awaited");
        List<String> payloads = IntStream.range(0, 10).mapToObj(i -> run + ":" + i).toList();
        QuarkusTransaction.requiringNew().run(() -> payloads.forEach(p -> bus.send("awaited", p)));
        await().atMost(Duration.ofSeconds(10)).until(() -> mine("awaited", run).size() == payloads.size());
        assertEquals(payloads, mine("awaited", run));
        assertEquals(List.of(), mine("awaited-overlap", run), "a message started before the previous one's stage"
                + " completed");
    }

    private static List<String> mine(String listener, String run) {
        return DeliveryTest.received(listener).stream().filter(e -> e.startsWith(run + ":")).toList();
    }

    /** Payload and position of what the concurrency listener received of this run, in arrival order. */
    private static List<String[]> received(String run) {
        return mine("concurrency", run).stream().map(entry -> {
            int hash = entry.lastIndexOf('#');
            return new String[] { entry.substring(0, hash), entry.substring(hash + 1) };
        }).toList();
    }

    static boolean terminate(int pid) throws SQLException {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement kill = connection.prepareStatement("SELECT pg_terminate_backend(?)")) {
            kill.setInt(1, pid);
            try (ResultSet result = kill.executeQuery()) {
                return result.next() && result.getBoolean(1);
            }
        }
    }
}
