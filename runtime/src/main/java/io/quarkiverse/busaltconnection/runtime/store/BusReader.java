package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.OptionalLong;

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
            long epoch = 0;
            long head = 0;
            OptionalLong purged = OptionalLong.empty();
            long fetched = 0;
            List<StoredMessage> messages = new ArrayList<>();
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    epoch = rows.getLong(1);
                    head = rows.getLong(2);
                    long through = rows.getLong(3);
                    purged = rows.wasNull() ? OptionalLong.empty() : OptionalLong.of(through);
                    long position = rows.getLong(4);
                    if (!rows.wasNull()) {
                        messages.add(new StoredMessage(position, rows.getString(5), rows.getString(6),
                                rows.getTimestamp(7).toInstant(), rows.getString(9)));
                        fetched = rows.getLong(8);
                    }
                }
            }
            return Page.of(epoch, head, purged, messages, fetched, most);
        } catch (SQLException e) {
            throw new BusException("Reading bus messages after position " + after + " failed: " + e.getMessage(), e);
        }
    }
}
