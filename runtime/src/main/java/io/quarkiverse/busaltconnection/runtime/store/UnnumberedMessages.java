package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.runtime.BusDataSource;

/**
 * How long committed messages have waited for a position, seen through the bus's datasource, so that an instance
 * without a direct connection (it only sends) can tell too. The age is measured from when a check first saw the
 * oldest unnumbered row, not from the row's {@code created_at}, which is its transaction's start: a long transaction
 * that just committed has waited for nothing.
 */
@Singleton
public class UnnumberedMessages {

    private final AgroalDataSource dataSource;
    private final BusTable table;
    private long oldest = -1;
    private Instant seenSince;

    @Inject
    public UnnumberedMessages(BusDataSource dataSource, BusTable table) {
        this.dataSource = dataSource.get();
        this.table = table;
    }

    /**
     * For how long the oldest committed message without a position has waited, at least; empty if none waits.
     *
     * @throws SQLException if the datasource cannot be read
     */
    public synchronized Optional<Duration> waiting() throws SQLException {
        Long id;
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(table.oldestUnnumbered())) {
            result.next();
            id = result.getObject(1, Long.class);
        }
        Instant now = Instant.now();
        if (id == null) {
            oldest = -1;
            return Optional.empty();
        }
        if (id != oldest) {
            oldest = id;
            seenSince = now;
        }
        return Optional.of(Duration.between(seenSince, now));
    }
}
