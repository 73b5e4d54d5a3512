package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * Writes the messages of one transaction in one INSERT, on the caller's connection and in its transaction: rows and
 * nothing else (see {@link BusTable}). Outside a transaction the statement is a transaction of its own.
 */
public final class BusWriter {

    private final BusTable table;

    public BusWriter(BusTable table) {
        this.table = table;
    }

    /**
     * One message to write.
     *
     * @param traceparent the W3C trace context of the send, or null
     */
    public record Outgoing(String channel, String payload, String traceparent) {
    }

    public void write(Connection connection, List<Outgoing> messages) throws SQLException {
        if (messages.isEmpty()) {
            return;
        }
        if (messages.size() == 1) {
            try (PreparedStatement insert = connection.prepareStatement(table.insertOne())) {
                insert.setString(1, messages.get(0).channel());
                insert.setString(2, messages.get(0).payload());
                insert.setString(3, messages.get(0).traceparent());
                insert.executeUpdate();
            }
            return;
        }
        String[] channels = new String[messages.size()];
        String[] payloads = new String[messages.size()];
        String[] traceparents = new String[messages.size()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = messages.get(i).channel();
            payloads[i] = messages.get(i).payload();
            traceparents[i] = messages.get(i).traceparent();
        }
        try (PreparedStatement insert = connection.prepareStatement(table.insert())) {
            insert.setArray(1, connection.createArrayOf("text", channels));
            insert.setArray(2, connection.createArrayOf("text", payloads));
            insert.setArray(3, connection.createArrayOf("text", traceparents));
            insert.executeUpdate();
        }
    }
}
