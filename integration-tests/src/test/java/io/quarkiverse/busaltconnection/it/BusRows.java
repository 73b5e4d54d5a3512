package io.quarkiverse.busaltconnection.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** What tests say to the bus's tables directly: which messages wait for a position, and how old a message is. */
final class BusRows {

    /** A message of {@code imdispatcher_bus} (alias {@code b}) without a position yet. */
    static final String UNNUMBERED = "NOT EXISTS (SELECT 1 FROM imdispatcher_bus_positions p"
            + " WHERE p.xid = b.xid AND p.id = b.id)";

    /**
     * The numbered messages with their positions, as one table (alias {@code m}): for a {@code FROM} clause.
     */
    static final String NUMBERED = "(SELECT p.position, b.channel, b.payload, b.created_at, b.message_key FROM"
            + " imdispatcher_bus b JOIN imdispatcher_bus_positions p ON p.xid = b.xid AND p.id = b.id) m";

    private BusRows() {
    }

    /**
     * Makes the messages matching {@code condition} (on {@code imdispatcher_bus b}, one JDBC parameter: {@code value})
     * numbered {@code age} ago (an interval), and every message before the last of them too: retention deletes in
     * position order, so that is what a bus that ran that long ago looks like.
     *
     * @return how many messages were made older
     */
    static int backdateThrough(Connection connection, String condition, String value, String age)
            throws SQLException {
        try (PreparedStatement backdate = connection.prepareStatement("UPDATE imdispatcher_bus_positions SET"
                + " numbered_at = least(numbered_at, now() - ?::interval) WHERE position <= (SELECT max(p.position)"
                + " FROM imdispatcher_bus_positions p JOIN imdispatcher_bus b ON b.xid = p.xid AND b.id = p.id WHERE "
                + condition + ")")) {
            backdate.setString(1, age);
            backdate.setString(2, value);
            return backdate.executeUpdate();
        }
    }
}
