package io.quarkiverse.busaltconnection.bench.receiver;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusListener;
import io.quarkiverse.busaltconnection.BusMessage;

/**
 * The durable consumer group of the group scenario: each message becomes one row of {@code bench_group_done} (the
 * harness creates it), written in the transaction the group's call runs in, as an application's consumer would write
 * its effect. The harness sets the partitions ({@code quarkus.imdispatcher.groups.bench.partitions}).
 */
@ApplicationScoped
public class GroupWorker {

    static final String GROUP = "bench";

    private static final long PID = ProcessHandle.current().pid();

    @Inject
    AgroalDataSource dataSource;

    @BusListener(value = "bench-group", group = GROUP)
    void work(String payload, BusMessage message) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement done = connection.prepareStatement("INSERT INTO bench_group_done (position, k,"
                        + " recorded_by) VALUES (?, ?, ?)")) {
            done.setLong(1, message.position());
            done.setString(2, message.key());
            done.setLong(3, PID);
            done.executeUpdate();
        }
    }
}
