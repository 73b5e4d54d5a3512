package io.quarkiverse.busaltconnection.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;

/**
 * Reads PgBouncer's admin console (the virtual database {@code pgbouncer}). pgjdbc cannot: the console refuses every
 * startup parameter it does not track ("unknown parameter: pgbouncer/extra_float_digits", whatever
 * ignore_startup_parameters says), so this sends only the tracked ones, with the simple query protocol.
 */
final class PgBouncerAdmin {

    private PgBouncerAdmin() {
    }

    static List<Row> show(Vertx vertx, String what) throws Exception {
        return command(vertx, "SHOW " + what);
    }

    /** Any admin console command: PAUSE db, RESUME db, SHUTDOWN, SHOW ... */
    static List<Row> command(Vertx vertx, String command) throws Exception {
        PgConnectOptions options = new PgConnectOptions()
                .setHost(Servers.pgbouncerHost())
                .setPort(Servers.pgbouncerPort())
                .setDatabase("pgbouncer")
                .setUser(Servers.user())
                .setPassword(Servers.password())
                .setProperties(Map.of("client_encoding", "UTF8", "application_name", "it-admin"));
        PgConnection connection = PgConnection.connect(vertx, options).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        try {
            List<Row> rows = new ArrayList<>();
            connection.query(command).execute().toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS).forEach(rows::add);
            return rows;
        } finally {
            connection.close();
        }
    }
}
