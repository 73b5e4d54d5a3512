package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.ReactiveBus;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * With the sweep an hour away, a message reaches its listener only through the wake-ups: a sender's in another
 * instance (here the test, which writes the row and notifies as one would), which only the sequencer listens for, or a
 * send in the sequencer's own instance, which asks it in the JVM; and the sequencer's head hint. After the listening
 * connection is lost, the instance takes the sequencer's lock again on the new connection and must listen for the
 * senders' wake-ups there too.
 */
@QuarkusTest
@TestProfile(ProbeIntervalDisabledTest.IntervalDisabled.class)
class WakeUpsOnlyTest {

    @Inject
    BusStatus status;

    @Inject
    BusTable table;

    @Inject
    ReactiveBus reactiveBus;

    /** The application's default reactive datasource, through PgBouncer. */
    @Inject
    Pool pool;

    @Test
    void theSequencerHearsTheSendersAtStartAndAfterItsConnectionWasLost() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(status::sequencing);
        deliveredFromElsewhere("wake-up-first");

        int before = status.backendPid();
        assertTrue(BusEngineTest.terminate(before), "could not end the listening backend " + before);
        await().atMost(Duration.ofSeconds(20)).until(() -> status.listening() && status.sequencing()
                && status.backendPid() != before);
        deliveredFromElsewhere("wake-up-after-reconnect");
        deliveredFromElsewhere("wake-up-again");
    }

    @Test
    void sendsInTheSequencersInstanceNeedNoWakeUpThroughTheDatabase() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(status::sequencing);
        try (Connection listener = DurableBusTest.direct(); Statement listen = listener.createStatement()) {
            listen.execute("LISTEN imdispatcher_bus");
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String text = DeliveryTest.unique("in-the-jvm");
                texts.add(text);
                DeliveryTest.send("greetings", text);
                if (i % 10 == 0) {
                    // Now and then after a quiet moment, when the sequencer no longer looks on its own.
                    Thread.sleep(150);
                }
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> {
                List<String> received = DeliveryTest.received("greetings");
                return texts.stream().allMatch(text -> received.stream().anyMatch(e -> e.startsWith(text + "@")));
            });
            listen.execute("SELECT 1");
            PGNotification[] heard = listener.unwrap(PGConnection.class).getNotifications();
            assertEquals(0, heard == null ? 0 : heard.length, "sends in the sequencer's instance notified");
        }
    }

    /**
     * The wake-up statement another instance's sender runs notifies only if the state row says the sequencer looks on
     * its own until later than the statement's start, by PostgreSQL's clock, and not implausibly later (checked inside
     * a transaction that sets the state row's time and rolls back); and a commit whose wake-up
     * was skipped because a real run had just numbered something is delivered with the sweep an hour away: the
     * sequencer went on looking on its own.
     */
    @Test
    void sendersElsewhereSkipTheirWakeUpWhileTheSequencerIsBusy() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(status::sequencing);
        try (Connection sender = DurableBusTest.direct();
                PreparedStatement insert = sender.prepareStatement("INSERT INTO imdispatcher_bus (channel, payload)"
                        + " VALUES ('greetings', ?)");
                PreparedStatement wakeUp = sender.prepareStatement(table.wakeUp());
                PreparedStatement awake = sender.prepareStatement("UPDATE imdispatcher_bus_state SET awake_until ="
                        + " statement_timestamp() + ?::interval")) {
            wakeUp.setString(1, table.writtenChannel());
            sender.setAutoCommit(false);
            awake.setString(1, "40 milliseconds");
            awake.executeUpdate();
            // Counted from the wake-up statement's own start, not its transaction's.
            double left = awakeFor(wakeUp);
            assertTrue(left > 20 && left <= 40, "the wake-up statement answered " + left
                    + " ms for a sequencer that looks on its own for 40 ms from the statement before");
            sender.rollback();
            awake.setString(1, "-1 millisecond");
            awake.executeUpdate();
            assertTrue(notifies(wakeUp), "no wake-up would go out after the sequencer stopped looking on its own");
            sender.rollback();
            awake.setString(1, "1 hour");
            awake.executeUpdate();
            assertTrue(notifies(wakeUp), "a time an hour ahead (a clock that went back) held the wake-ups back");
            sender.rollback();
            sender.setAutoCommit(true);

            // Sends in the sequencer's instance, fast enough that it looks on its own (slower, it waits for the
            // wake-ups that senders carry, and none is skipped).
            AtomicBoolean busy = new AtomicBoolean(true);
            ExecutorService local = Executors.newFixedThreadPool(2);
            String skipped = null;
            try {
                for (int thread = 0; thread < 2; thread++) {
                    local.execute(() -> {
                        while (busy.get()) {
                            DeliveryTest.send("greetings", DeliveryTest.unique("busy"));
                        }
                    });
                }
                for (int attempt = 0; attempt < 200 && skipped == null; attempt++) {
                    String text = DeliveryTest.unique("while-busy");
                    insert.setString(1, text);
                    insert.executeUpdate();
                    if (!notifies(wakeUp)) {
                        skipped = text;
                    }
                    Thread.sleep(5);
                }
            } finally {
                busy.set(false);
                local.shutdown();
                local.awaitTermination(10, TimeUnit.SECONDS);
            }
            assertTrue(skipped != null, "no wake-up was skipped in 200 sends while this instance sent fast");
            String awaited = skipped;
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(awaited + "@")));
        }
    }

    /**
     * While the sequencer is another instance's (here the test's, which holds its lock and numbers nothing) and does not
     * look on its own, a send outside any transaction (`Bus.send`, or `ReactiveBus` through the pool) numbers its own
     * message when nothing else waits for a position: it is delivered although nobody sequences, in send order, with no
     * wake-up. A sending transaction that is not alone (JTA, with two messages; a Vert.x transaction) carries its
     * wake-up instead, and once its message waits for a position, so do the sends after it: one notification per
     * transaction, nothing delivered. None takes a transaction of its own (a separate wake-up would take a transaction
     * id, doubling what a send costs). Once the instance sequences again, every message is delivered.
     */
    @Test
    void sendsWhileAnotherInstanceSequencesNumberTheirMessagesOrCarryTheirWakeUp() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(status::sequencing);
        List<String> texts = new ArrayList<>();
        try (Connection sequencer = DurableBusTest.direct(); Statement sql = sequencer.createStatement()) {
            takeTheSequencersLock(sequencer);
            asAnotherInstancesSequencer(sequencer, sql, texts);
        } finally {
            // The lock went with the test's session: the instance takes it when its connection comes back.
            BusEngineTest.terminate(status.backendPid());
        }
        await().atMost(Duration.ofSeconds(20)).until(status::sequencing);
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            List<String> received = DeliveryTest.received("greetings");
            return texts.stream().allMatch(text -> received.stream().anyMatch(e -> e.startsWith(text + "@")));
        });
    }

    /** Sends through the instance while the test holds the sequencer's lock: see the test above. */
    private void asAnotherInstancesSequencer(Connection sequencer, Statement sql, List<String> texts) throws Exception {
        int transactions = 0;
        int rolledBack = 0;
        sql.execute("LISTEN imdispatcher_bus");
        sql.execute("UPDATE imdispatcher_bus_state SET awake_until = now() - interval '1 second'");
        // Longer than any time the instance may have been told the sequencer looks on its own.
        Thread.sleep(BusTable.MAX_AWAKE_MILLIS + 100);
        notifications(sequencer);
        long idleStart = nextXid(sequencer);
        Thread.sleep(2_000);
        long idle = nextXid(sequencer) - idleStart;

        long start = nextXid(sequencer);
        long began = System.nanoTime();
        List<String> alone = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String text = DeliveryTest.unique("numbered");
            if (i % 2 == 0) {
                DeliveryTest.send("greetings", text);
            } else {
                reactiveBus.send(pool, "greetings", text).await().atMost(Duration.ofSeconds(10));
            }
            alone.add(text);
            transactions++;
            Thread.sleep(100);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> positions(alone) != null);
        List<Long> positions = positions(alone);
        for (int i = 1; i < positions.size(); i++) {
            assertEquals(positions.get(i - 1) + 1, positions.get(i), "positions of the sends in order: " + positions);
        }
        assertEquals(0, notifications(sequencer), "wake-ups heard for sends that numbered their own messages");
        texts.addAll(alone);

        List<String> carried = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String text = DeliveryTest.unique("carried");
            if (i % 4 == 0) {
                given().contentType(ContentType.TEXT).body(text).post("/bus/send-in-transaction/greetings").then()
                        .statusCode(204);
                carried.add(text + "-1");
                carried.add(text + "-2");
            } else if (i % 4 == 1) {
                if (i == 5) {
                    // A carrying transaction that rolls back notifies nothing, and frees the carrier's slot: the
                    // transactions after it carry their wake-ups again.
                    assertThrows(IllegalStateException.class, () -> pool.withTransaction(connection -> reactiveBus
                            .send(connection, "greetings", DeliveryTest.unique("withdrawn"))
                            .chain(() -> Uni.createFrom().failure(new IllegalStateException("withdrawn"))))
                            .await().atMost(Duration.ofSeconds(10)));
                    rolledBack++;
                }
                pool.withTransaction(connection -> reactiveBus.send(connection, "greetings", text)
                        .chain(() -> connection.query("SELECT 1").execute())).await().atMost(Duration.ofSeconds(10));
                carried.add(text);
            } else if (i % 4 == 2) {
                // A message waits for its position: this one comes after it, and waits too.
                DeliveryTest.send("greetings", text);
                carried.add(text);
            } else {
                reactiveBus.send(pool, "greetings", text).await().atMost(Duration.ofSeconds(10));
                carried.add(text);
            }
            transactions++;
            Thread.sleep(100);
        }
        long used = nextXid(sequencer) - start;
        double seconds = (System.nanoTime() - began) / 1e9;
        long budget = Math.round(idle * seconds / 2 + transactions * 1.3 + rolledBack);
        assertTrue(used <= budget, "sending " + transactions + " transactions used " + used
                + " transaction ids (" + idle + " in 2 s of idleness): their wake-ups took transactions of their own");
        assertEquals(8, notifications(sequencer), "wake-ups heard for 8 sending transactions that carried them");
        assertEquals(0, DeliveryTest.received("greetings").stream()
                .filter(e -> carried.stream().anyMatch(t -> e.startsWith(t + "@"))).count(),
                "a message was delivered while nobody numbered it");
        texts.addAll(carried);
    }

    /** The positions at which {@code texts} were delivered, in their order; null until all of them were. */
    private static List<Long> positions(List<String> texts) {
        List<String> received = DeliveryTest.received("greetings");
        List<Long> positions = new ArrayList<>();
        for (String text : texts) {
            String entry = received.stream().filter(e -> e.startsWith(text + "@")).findFirst().orElse(null);
            if (entry == null) {
                return null;
            }
            positions.add(Long.parseLong(entry.substring(entry.lastIndexOf('#') + 1)));
        }
        return positions;
    }

    /** Ends the instance's listening connection until the test's session takes the sequencer's lock first. */
    private void takeTheSequencersLock(Connection sequencer) throws Exception {
        try (PreparedStatement lock = sequencer.prepareStatement("SELECT pg_try_advisory_lock("
                + BusTable.sequencerLockSql().replace("$1", "?") + ")")) {
            lock.setString(1, table.lockKey());
            for (int attempt = 0; attempt < 10; attempt++) {
                BusEngineTest.terminate(status.backendPid());
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (System.nanoTime() < deadline) {
                    try (ResultSet taken = lock.executeQuery()) {
                        if (taken.next() && taken.getBoolean(1)) {
                            await().atMost(Duration.ofSeconds(20)).until(() -> status.listening() && !status.sequencing());
                            return;
                        }
                    }
                    if (status.sequencing()) {
                        break;
                    }
                    Thread.sleep(2);
                }
            }
        }
        throw new AssertionError("the instance took the sequencer's lock back each time");
    }

    /** The next transaction id PostgreSQL will assign: a read, which takes none. */
    private static long nextXid(Connection connection) throws Exception {
        try (Statement sql = connection.createStatement();
                ResultSet next = sql.executeQuery("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")) {
            next.next();
            return next.getLong(1);
        }
    }

    /** Takes the notifications {@code connection} received so far, and says how many. */
    private static int notifications(Connection connection) throws Exception {
        try (Statement sql = connection.createStatement()) {
            sql.execute("SELECT 1");
        }
        PGNotification[] heard = connection.unwrap(PGConnection.class).getNotifications(200);
        return heard == null ? 0 : heard.length;
    }

    private static boolean notifies(PreparedStatement wakeUp) throws Exception {
        return awakeFor(wakeUp) == 0;
    }

    /** What the wake-up statement answers: 0 when it notified, else how many ms the sequencer still looks on its own. */
    private static double awakeFor(PreparedStatement wakeUp) throws Exception {
        try (ResultSet answer = wakeUp.executeQuery()) {
            assertTrue(answer.next(), "the wake-up statement gave no answer");
            double awake = answer.getDouble(1);
            assertTrue(awake > 0 || answer.wasNull(), "the wake-up statement answered " + awake);
            assertTrue(!answer.next(), "the wake-up statement gave two answers");
            return awake;
        }
    }

    /**
     * A message written and announced as another instance's sender does, after a quiet moment: the sequencer looks
     * only when told.
     */
    private static void deliveredFromElsewhere(String prefix) throws Exception {
        Thread.sleep(200);
        String text = DeliveryTest.unique(prefix);
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO imdispatcher_bus (channel,"
                        + " payload) VALUES ('greetings', ?)");
                Statement notify = connection.createStatement()) {
            insert.setString(1, text);
            insert.executeUpdate();
            notify.execute("SELECT pg_notify('imdispatcher_bus', '')");
        }
        await().atMost(Duration.ofSeconds(15))
                .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(text + "@")));
    }
}
