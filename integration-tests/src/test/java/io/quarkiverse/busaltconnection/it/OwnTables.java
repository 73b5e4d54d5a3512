package io.quarkiverse.busaltconnection.it;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
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
}
