package io.quarkiverse.busaltconnection.it;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Makes the database refuse every bus row of one channel (a trigger that raises), as a full disk or a lost
 * connection would refuse a write, until closed.
 */
final class RefusedChannel implements AutoCloseable {

    private final String function = "refuse_" + Long.toHexString(System.nanoTime());

    /** @param channel an identifier-safe channel name (the tests' unique names are) */
    RefusedChannel(String channel) throws SQLException {
        try (Connection direct = DurableBusTest.direct(); Statement statement = direct.createStatement()) {
            statement.execute("CREATE FUNCTION " + function + "() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$BEGIN RAISE EXCEPTION 'refused by the test'; END$$");
            statement.execute("CREATE TRIGGER " + function + " BEFORE INSERT ON imdispatcher_bus FOR EACH ROW"
                    + " WHEN (NEW.channel = '" + channel + "') EXECUTE FUNCTION " + function + "()");
        }
    }

    @Override
    public void close() throws SQLException {
        try (Connection direct = DurableBusTest.direct(); Statement statement = direct.createStatement()) {
            statement.execute("DROP TRIGGER " + function + " ON imdispatcher_bus");
            statement.execute("DROP FUNCTION " + function + "()");
        }
    }
}
