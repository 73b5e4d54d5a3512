package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import io.quarkiverse.busaltconnection.Bus;
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

    @Inject
    Bus bus;

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
     * Another instance's sender (here the test, with the wake-up statement senders run) sends no wake-up while the
     * sequencer is busy (numbering this instance's sends, one every 2 ms), by PostgreSQL's clock, and one after a quiet
     * moment. Of 20 wake-ups in the busy stretch a few may go out when the machine stalls the sequencer for longer
     * than the window; all 20 would without the check.
     */
    @Test
    void sendersElsewhereSkipTheirWakeUpWhileTheSequencerIsBusy() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(status::sequencing);
        AtomicBoolean busy = new AtomicBoolean(true);
        Thread local = new Thread(() -> {
            while (busy.get()) {
                bus.send("greetings", DeliveryTest.unique("keeping-busy"));
                LockSupport.parkNanos(2_000_000);
            }
        });
        List<String> texts = new ArrayList<>();
        try (Connection listener = DurableBusTest.direct();
                Statement listen = listener.createStatement();
                Connection sender = DurableBusTest.direct();
                PreparedStatement insert = sender.prepareStatement("INSERT INTO imdispatcher_bus (channel, payload)"
                        + " VALUES ('greetings', ?)");
                PreparedStatement wakeUp = sender.prepareStatement(table.wakeUp())) {
            listen.execute("LISTEN imdispatcher_bus");
            wakeUp.setString(1, table.writtenChannel());
            local.start();
            Thread.sleep(300);
            for (int i = 0; i < 20; i++) {
                String text = DeliveryTest.unique("while-busy");
                texts.add(text);
                insert.setString(1, text);
                insert.executeUpdate();
                wakeUp.execute();
                Thread.sleep(20);
            }
            busy.set(false);
            local.join();
            await().atMost(Duration.ofSeconds(15)).until(() -> {
                List<String> received = DeliveryTest.received("greetings");
                return texts.stream().allMatch(text -> received.stream().anyMatch(e -> e.startsWith(text + "@")));
            });
            listen.execute("SELECT 1");
            PGNotification[] heard = listener.unwrap(PGConnection.class).getNotifications();
            int notified = heard == null ? 0 : heard.length;
            assertTrue(notified <= 3, notified + " of 20 wake-ups went out while the sequencer was busy");

            Thread.sleep(200);
            wakeUp.execute();
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                listen.execute("SELECT 1");
                PGNotification[] later = listener.unwrap(PGConnection.class).getNotifications();
                return later != null && later.length > 0;
            });
        } finally {
            busy.set(false);
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
