package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * Writes the messages of one transaction in one call of the table's send function (see
 * {@link BusTable#sendFunction()}), on the caller's connection and in its transaction: ids in commit order, one
 * wake-up notification. Outside a transaction the call is a transaction of its own.
 */
public final class BusWriter {

    private final BusTable table;

    public BusWriter(BusTable table) {
        this.table = table;
    }

    /** One message to write. */
    public record Outgoing(String channel, String payload) {
    }

    public void write(Connection connection, List<Outgoing> messages) throws SQLException {
        if (messages.isEmpty()) {
            return;
        }
        String[] channels = new String[messages.size()];
        String[] payloads = new String[messages.size()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = messages.get(i).channel();
            payloads[i] = messages.get(i).payload();
        }
        try (PreparedStatement send = connection.prepareStatement(table.send())) {
            send.setArray(1, connection.createArrayOf("text", channels));
            send.setArray(2, connection.createArrayOf("text", payloads));
            send.execute();
        }
    }
}
