package io.quarkiverse.busaltconnection.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;

import javax.sql.DataSource;

/**
 * The baselines' sends over pgjdbc: one statement in autocommit (one transaction, one round trip) on a connection
 * borrowed from a pool for that send, as {@code Bus.send} does outside a transaction.
 */
final class JdbcSends {

    /** Not durable: a notification alone. */
    static final String RAW_NOTIFY = "SELECT pg_notify('" + BareListener.RAW_CHANNEL + "', ?)";
    /** The plain outbox: the row and a NOTIFY carrying its id, in one transaction. */
    static final String OUTBOX = "WITH m AS (INSERT INTO bench_outbox (channel, payload) VALUES ('bench', ?)"
            + " RETURNING id) SELECT pg_notify('" + BareListener.OUTBOX_CHANNEL + "', id::text) FROM m";
    /**
     * The statement the extension runs for one message outside a transaction, against a table of the bus table's
     * shape.
     */
    static final String BUS_INSERT = "INSERT INTO bench_bus_shaped (channel, payload, traceparent, message_key)"
            + " VALUES (?, ?, ?, ?)";

    private JdbcSends() {
    }

    static Load.Send statement(DataSource pool, String sql) {
        return payload -> {
            try (Connection connection = pool.getConnection();
                    PreparedStatement statement = connection.prepareStatement(sql)) {
                statement.setString(1, payload);
                statement.execute();
            }
        };
    }

    static Load.Send busInsert(DataSource pool) {
        return payload -> {
            try (Connection connection = pool.getConnection();
                    PreparedStatement statement = connection.prepareStatement(BUS_INSERT)) {
                statement.setString(1, "bench");
                statement.setString(2, payload);
                statement.setNull(3, java.sql.Types.VARCHAR);
                statement.setNull(4, java.sql.Types.VARCHAR);
                statement.execute();
            }
        };
    }
}
