package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Writes the messages of one transaction: takes the table's transaction-scoped advisory lock, draws their ids,
 * inserts them and sends one wake-up notification, all on the caller's connection and in its transaction. The lock
 * is held until the transaction ends, so a later transaction draws its ids after this one committed: ids follow
 * commit order, which lets every instance deliver exactly once and in commit order by remembering one number.
 */
public final class BusWriter {

    private final BusTable table;
    private final ObjectMapper json;

    public BusWriter(BusTable table, ObjectMapper json) {
        this.table = table;
        this.json = json;
    }

    /** One message to write. */
    public record Outgoing(String channel, String payload) {
    }

    public void write(Connection connection, List<Outgoing> messages) throws SQLException {
        if (messages.isEmpty()) {
            return;
        }
        try (PreparedStatement lock = connection.prepareStatement(table.transactionLock())) {
            lock.setString(1, table.name());
            lock.execute();
        }
        long[] ids = nextIds(connection, messages.size());
        List<StoredMessage> stored = new ArrayList<>(messages.size());
        try (PreparedStatement insert = connection.prepareStatement(table.insert())) {
            Long[] boxedIds = new Long[ids.length];
            String[] channels = new String[ids.length];
            String[] payloads = new String[ids.length];
            for (int i = 0; i < ids.length; i++) {
                boxedIds[i] = ids[i];
                channels[i] = messages.get(i).channel();
                payloads[i] = messages.get(i).payload();
            }
            Array idArray = connection.createArrayOf("bigint", boxedIds);
            Array channelArray = connection.createArrayOf("text", channels);
            Array payloadArray = connection.createArrayOf("text", payloads);
            insert.setArray(1, idArray);
            insert.setArray(2, channelArray);
            insert.setArray(3, payloadArray);
            Instant createdAt;
            try (ResultSet rows = insert.executeQuery()) {
                // created_at is now(), the same for every row of the transaction.
                rows.next();
                createdAt = rows.getTimestamp(2).toInstant();
            }
            for (int i = 0; i < ids.length; i++) {
                stored.add(new StoredMessage(ids[i], channels[i], payloads[i], createdAt));
            }
        }
        try (PreparedStatement notify = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            notify.setString(1, table.name());
            notify.setString(2, new WakeUp(ids[0], ids[ids.length - 1], stored).encode(json));
            notify.execute();
        }
    }

    private long[] nextIds(Connection connection, int count) throws SQLException {
        long[] ids = new long[count];
        try (PreparedStatement next = connection.prepareStatement(table.nextIds())) {
            next.setInt(1, count);
            try (ResultSet rows = next.executeQuery()) {
                for (int i = 0; i < count && rows.next(); i++) {
                    ids[i] = rows.getLong(1);
                }
            }
        }
        // A sequence hands out increasing values, but a set-returning query does not promise their row order.
        Arrays.sort(ids);
        return ids;
    }
}
