package io.quarkiverse.busaltconnection.runtime.store;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.quarkiverse.busaltconnection.runtime.listen.DirectConnectOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * What the dispatcher does once before it listens, on a short-lived direct connection: create the bus table if
 * asked to (under a session advisory lock, so that instances starting together do not race on CREATE ... IF NOT
 * EXISTS; session locks need the direct path), and read the newest id, from which this instance delivers.
 */
public final class BusStartup {

    private BusStartup() {
    }

    /**
     * @return the newest id in the table: the instance delivers messages after it
     * @throws IllegalStateException naming the configuration to change, when the table is missing or unusable
     */
    public static long prepare(Vertx vertx, PgConnectOptions options, BusTable table, boolean createSchema,
            Duration timeout) {
        Future<PgConnection> connected = PgConnection.connect(vertx, options);
        try {
            connected.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to PostgreSQL", e);
        } catch (Exception e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            String reason = e instanceof TimeoutException
                    ? "no answer within " + timeout.toMillis() + " ms (quarkus.imdispatcher.connect-timeout)"
                    : String.valueOf(cause.getMessage());
            throw DirectConnectOptions.unreachable(options, reason, cause);
        }
        Future<Long> work = connected.compose(connection -> {
            Future<Void> schema = checkServer(connection, options)
                    .compose(v -> createSchema ? createSchema(connection, table) : Future.succeededFuture());
            return schema.compose(v -> connection.query(table.maxId()).execute())
                    .map(rows -> rows.iterator().next().getLong(0))
                    .eventually(() -> connection.close());
        });
        try {
            return work.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preparing the bus table", e);
        } catch (Exception e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof WrongServer wrong) {
                throw new IllegalStateException(wrong.getMessage(), wrong);
            }
            throw new IllegalStateException("Bus Alt Connection cannot use its table '" + table.name() + "': "
                    + cause.getMessage() + (createSchema ? ""
                            : ". quarkus.imdispatcher.bus.schema-management is none: create the table with the SQL"
                                    + " in the documentation, or set it to create"),
                    cause);
        }
    }

    /**
     * The listener must reach a primary PostgreSQL directly. On a direct connection the process id PostgreSQL sent
     * at startup (BackendKeyData) is the backend's {@code pg_backend_pid()}; a pooler such as PgBouncer sends a key
     * of its own, so the two differ. A server in recovery (a standby) accepts neither LISTEN nor the bus's writes.
     */
    private static Future<Void> checkServer(PgConnection connection, PgConnectOptions options) {
        return connection.query("SELECT pg_backend_pid(), pg_is_in_recovery()").execute().compose(rows -> {
            Row row = rows.iterator().next();
            int backendPid = row.getInteger(0);
            if (backendPid != connection.processId()) {
                return Future.failedFuture(new WrongServer("Bus Alt Connection's listener reaches PostgreSQL at "
                        + DirectConnectOptions.describe(options) + " through a connection pooler: the connection's"
                        + " process id is " + connection.processId() + " but its backend's is " + backendPid
                        + ". A LISTEN through a transaction pooler such as PgBouncer succeeds and then hears"
                        + " nothing: point quarkus.imdispatcher.db-host and quarkus.imdispatcher.db-port (or"
                        + " IMDISPATCHER_DB_HOST / IMDISPATCHER_DB_PORT) at PostgreSQL itself, not at the pooler."));
            }
            if (row.getBoolean(1)) {
                return Future.failedFuture(new WrongServer("Bus Alt Connection's listener reaches PostgreSQL at "
                        + DirectConnectOptions.describe(options) + ", a server in recovery (a standby or replica):"
                        + " it can neither LISTEN nor store bus messages. Point quarkus.imdispatcher.db-host and"
                        + " quarkus.imdispatcher.db-port at the primary."));
            }
            return Future.succeededFuture();
        });
    }

    /** The listener's server is not one it can work with; the message says what to change. */
    static final class WrongServer extends RuntimeException {

        private static final long serialVersionUID = 1L;

        WrongServer(String message) {
            super(message, null, false, false);
        }
    }

    private static Future<Void> createSchema(PgConnection connection, BusTable table) {
        Tuple key = Tuple.of(table.name());
        Future<Void> done = connection.preparedQuery("SELECT pg_advisory_lock(" + BusTable.lockKeySql() + ")")
                .execute(key).mapEmpty();
        for (String statement : table.createSchema()) {
            done = done.compose(v -> connection.query(statement).execute()).mapEmpty();
        }
        return done.eventually(() -> connection
                .preparedQuery("SELECT pg_advisory_unlock(" + BusTable.lockKeySql() + ")").execute(key));
    }
}
