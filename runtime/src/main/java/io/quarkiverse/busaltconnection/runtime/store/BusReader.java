package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusException;

/**
 * Reads messages back from the bus table on the pooled path, for HTTP clients catching up. Blocking: call it from a
 * worker thread.
 */
public final class BusReader {

    private final AgroalDataSource dataSource;
    private final BusTable table;

    public BusReader(AgroalDataSource dataSource, BusTable table) {
        this.dataSource = dataSource;
        this.table = table;
    }

    /** The messages after {@code lastId} on {@code channels}, in id (commit) order, at most {@code limit}. */
    public List<StoredMessage> after(long lastId, Collection<String> channels, int limit) {
        List<StoredMessage> messages = new ArrayList<>();
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(table.rowsAfterOnChannels())) {
            select.setLong(1, lastId);
            select.setArray(2, connection.createArrayOf("text", channels.toArray()));
            select.setInt(3, limit);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    messages.add(new StoredMessage(rows.getLong(1), rows.getString(2), rows.getString(3),
                            rows.getTimestamp(4).toInstant()));
                }
            }
        } catch (SQLException e) {
            throw new BusException("Reading bus messages after " + lastId + " failed: " + e.getMessage(), e);
        }
        return messages;
    }
}
