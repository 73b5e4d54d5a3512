package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.quarkiverse.busaltconnection.runtime.store.BusStartup;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

/** A bus table of a test's own, beside the application's: created as the extension creates it, and dropped. */
final class OwnTables {

    private OwnTables() {
    }

    static void create(BusTable table) throws Exception {
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        Vertx vertx = Vertx.vertx();
        try {
            BusStartup.prepare(vertx, options, table, true, Duration.ofSeconds(60));
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get();
        }
    }

    static void drop(BusTable table) throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            for (String suffix : List.of("", "_positions", "_state", "_purged", "_groups")) {
                statement.execute("DROP TABLE IF EXISTS " + table.name() + suffix);
            }
        }
    }

    /** The positions whose message is still there, in order; fails if a message is without its position or the reverse. */
    static List<Integer> remaining(BusTable table) throws Exception {
        List<Integer> positions = new ArrayList<>();
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            try (ResultSet rows = statement.executeQuery("SELECT p.position FROM " + table.name() + "_positions p"
                    + " JOIN " + table.name() + " b ON b.xid = p.xid AND b.id = p.id ORDER BY 1")) {
                while (rows.next()) {
                    positions.add(rows.getInt(1));
                }
            }
            for (String suffix : List.of("", "_positions")) {
                try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM " + table.name() + suffix)) {
                    rows.next();
                    assertEquals(positions.size(), rows.getInt(1), "rows of " + table.name() + suffix
                            + " without their message or position");
                }
            }
        }
        return positions;
    }

    /** Per channel, the highest position retention recorded as deleted, as "channel:position". */
    static List<String> purged(BusTable table) throws Exception {
        List<String> purged = new ArrayList<>();
        try (Connection connection = DurableBusTest.direct();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT channel || ':' || through FROM " + table.name()
                        + "_purged ORDER BY 1")) {
            while (rows.next()) {
                purged.add(rows.getString(1));
            }
        }
        return purged;
    }

    static List<Integer> range(int from, int to) {
        List<Integer> range = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            range.add(i);
        }
        return range;
    }
}
