package io.quarkiverse.busaltconnection.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusListener;
import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkus.logging.Log;
import io.quarkus.runtime.StartupEvent;

/**
 * The demo's durable consumer group "ledger": each message of channel {@value #CHANNEL} becomes a row of
 * {@code ledger_entries}, written through the datasource in the transaction the group's call runs in. A payload
 * starting with "fail-once" fails on its first call, "poison" on every call (to the dead-letter channel after the
 * configured attempts), "hang" takes four seconds (the group is stuck meanwhile).
 */
@Singleton
public class Ledger {

    public static final String CHANNEL = "ledger";

    @Inject
    AgroalDataSource dataSource;

    @Inject
    Inbox inbox;

    /** Calls per payload on this instance, counting failed ones. */
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

    void createTable(@Observes StartupEvent started) {
        // No key on position: a message recorded twice would show as two rows.
        createTable(dataSource, "ledger_entries", "position bigint NOT NULL, payload text NOT NULL, recorded_by bigint"
                + " NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()");
    }

    /** Creates a table of the demo's groups if it is missing. */
    static void createTable(AgroalDataSource dataSource, String name, String columns) {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS " + name + " (" + columns + ")");
        } catch (SQLException e) {
            // Two instances starting together: IF NOT EXISTS does not keep the second from colliding with the first.
            // A test profile whose default datasource leads nowhere (the bus on a named one) sends no group messages.
            if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) {
                Log.warnf("The demo's %s table was not created: %s", name, e.getMessage());
            }
        }
    }

    @BusListener(value = CHANNEL, group = "ledger")
    void record(String payload, BusMessage message) throws SQLException, InterruptedException {
        int call = calls.computeIfAbsent(payload, p -> new AtomicInteger()).incrementAndGet();
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO ledger_entries (position, payload, recorded_by) VALUES (?, ?, ?)")) {
            insert.setLong(1, message.position());
            insert.setString(2, payload);
            insert.setLong(3, ProcessHandle.current().pid());
            insert.executeUpdate();
        }
        if (payload.startsWith("hang")) {
            // Longer than the group's stuck-after (application.properties): readiness is DOWN meanwhile.
            Thread.sleep(4_000);
        }
        // After the write: a failure must take the row back with it.
        if (payload.startsWith("poison") || (payload.startsWith("fail-once") && call == 1)) {
            throw new IllegalStateException("refused " + payload + " (call " + call + ")");
        }
    }

    /** What the group gave up: every instance hears the dead-letter channel. */
    @BusListener(CHANNEL + "-dlq")
    void deadLetter(String letter) {
        inbox.add("ledger-dlq", letter);
    }

    int calls(String payload) {
        AtomicInteger count = calls.get(payload);
        return count == null ? 0 : count.get();
    }
}
