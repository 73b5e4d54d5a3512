package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;

/**
 * PostgreSQL before 19 signals every listening backend of the database for every notification: with many listening
 * instances, the sequencer spaces the runs that send head hints by the number of instances (1 ms each), and every
 * message still arrives.
 */
@QuarkusTest
class HintSpacingTest {

    /** Sessions that look like instances of the bus to the sequencer: its application_name, LISTEN on the head. */
    private static final int FLEET = 40;
    private static final int MESSAGES = 200;

    @Inject
    Bus bus;

    @Test
    void aFleetOfListeningInstancesHearsHeadHintsSpacedByItsSize() throws Exception {
        List<Connection> fleet = new ArrayList<>();
        try {
            for (int i = 0; i < FLEET; i++) {
                fleet.add(instance());
            }
            // The sequencer counts the instances at its sweep, once a second, and says what it counted.
            Thread.sleep(2_500);
            double instances = PrometheusScrape.required("imdispatcher_sequencer_listening_instances");
            assertTrue(instances >= FLEET + 1, instances + " listening instances counted");
            double spacing = PrometheusScrape.required("imdispatcher_sequencer_run_spacing_seconds");
            assertTrue(spacing >= (FLEET + 1) / 1000.0, "runs spaced by " + spacing + " s");
            PGConnection watcher = fleet.get(0).unwrap(PGConnection.class);
            hints(watcher);
            String run = DeliveryTest.unique("spaced");
            long start = System.nanoTime();
            for (int i = 0; i < MESSAGES; i++) {
                String text = run + "-" + i;
                QuarkusTransaction.requiringNew().run(() -> bus.send("greetings", text));
                Thread.sleep(5);
            }
            // The last run's hint, at most one spacing later.
            Thread.sleep(300);
            long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            int hints = hints(watcher);
            // 41 instances (the fleet and this application's): a run that numbered messages every 41 ms at most.
            // Without the spacing, a run numbers the message or two of each few ms and hints each time.
            long most = millis / 41 + 3;
            assertTrue(hints <= most, hints + " head hints in " + millis + " ms with " + (FLEET + 1)
                    + " listening instances: at most " + most + " expected");
            assertTrue(hints >= 2, "no head hints at all: " + hints);
            await().atMost(Duration.ofSeconds(20)).until(() -> DeliveryTest.received("greetings").stream()
                    .filter(text -> text.startsWith(run + "-")).count() == MESSAGES);
        } finally {
            for (Connection connection : fleet) {
                connection.close();
            }
        }
    }

    private static Connection instance() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", Servers.user());
        properties.setProperty("password", Servers.password());
        properties.setProperty("ApplicationName", "imdispatcher");
        Connection connection = DriverManager.getConnection(Servers.postgresJdbcUrl(), properties);
        try (Statement statement = connection.createStatement()) {
            statement.execute("LISTEN imdispatcher_bus_head");
        }
        return connection;
    }

    /** The head hints the connection received since it was last asked. */
    private static int hints(PGConnection connection) throws SQLException {
        PGNotification[] received = connection.getNotifications();
        return received == null ? 0 : received.length;
    }
}
