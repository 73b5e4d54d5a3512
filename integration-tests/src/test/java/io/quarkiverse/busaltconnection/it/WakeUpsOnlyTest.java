package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

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
     * its own until later than now, by PostgreSQL's clock, and not implausibly later (checked inside a transaction
     * that sets the state row's time and rolls back, so that nothing depends on timing); and a commit whose wake-up
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
                        + " now() + ?::interval")) {
            wakeUp.setString(1, table.writtenChannel());
            sender.setAutoCommit(false);
            awake.setString(1, "40 milliseconds");
            awake.executeUpdate();
            assertEquals(40.0, awakeFor(wakeUp), 0.001, "a wake-up would go out while the sequencer looks on its own");
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

            String skipped = null;
            for (int attempt = 0; attempt < 50 && skipped == null; attempt++) {
                // A send in the sequencer's instance: a real run numbers it moments later.
                DeliveryTest.send("greetings", DeliveryTest.unique("busy"));
                String text = DeliveryTest.unique("while-busy");
                insert.setString(1, text);
                insert.executeUpdate();
                if (!notifies(wakeUp)) {
                    skipped = text;
                }
            }
            assertTrue(skipped != null, "no wake-up was skipped in 50 sends right after this instance's");
            String awaited = skipped;
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(awaited + "@")));
        }
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
