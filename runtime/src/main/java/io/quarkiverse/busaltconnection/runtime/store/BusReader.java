package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.Collection;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusException;

/**
 * Reads pages of the bus on the pooled path, for HTTP clients catching up (see {@link BusTable#pageOnChannels()}).
 * Blocking: call it from a worker thread.
 */
public final class BusReader {

    private final AgroalDataSource dataSource;
    private final BusTable table;

    public BusReader(AgroalDataSource dataSource, BusTable table) {
        this.dataSource = dataSource;
        this.table = table;
    }

    /** The messages of {@code channels} after {@code after}, at most {@code most} and about {@code bytes}. */
    public Page after(long after, Collection<String> channels, int most, long bytes) {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(table.pageOnChannelsJdbc())) {
            Array names = connection.createArrayOf("text", channels.toArray());
            select.setArray(1, names);
            select.setArray(2, names);
            select.setLong(3, after);
            select.setInt(4, most);
            select.setLong(5, bytes);
            PageRows page = new PageRows(most);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    Timestamp created = rows.getTimestamp(7);
                    page.add(rows.getLong(1), rows.getLong(2), rows.getObject(3, Long.class),
                            rows.getObject(4, Long.class), rows.getString(5), rows.getString(6),
                            created == null ? null : created.toInstant(), rows.getLong(8), rows.getString(9),
                            rows.getString(10));
                }
            }
            return page.page();
        } catch (SQLException e) {
            throw new BusException("Reading bus messages after position " + after + " failed: " + e.getMessage(), e);
        }
    }
}
