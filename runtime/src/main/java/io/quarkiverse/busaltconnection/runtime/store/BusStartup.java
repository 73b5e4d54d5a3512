package io.quarkiverse.busaltconnection.runtime.store;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.listen.DirectConnectOptions;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnector;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * What the bus engine does once before it listens, on a short-lived direct connection: create or upgrade the bus
 * schema if asked to (under a session advisory lock, so that instances starting together run the statements one after
 * the other; session locks need the direct path), start a new epoch in a copied database, and read the head, from
 * which this instance delivers.
 */
public final class BusStartup {

    private static final Logger LOG = Logger.getLogger(BusStartup.class);

    private BusStartup() {
    }

    /**
     * The bus's epoch and last position when the instance started.
     *
     * @param sequencer who numbered messages then: the sequencer's backend, as far as {@code pg_stat_activity} shows
     *        it, or empty if nobody did
     */
    public record Head(long epoch, long position, Optional<String> sequencer) {
    }

    /**
     * @return the epoch and last position: the instance delivers messages after it
     * @throws IllegalStateException naming the configuration to change, when the table is missing or unusable
     */
    public static Head prepare(Vertx vertx, PgConnectOptions options, BusTable table, boolean createSchema,
            Duration timeout) {
        try (DirectConnector connector = new DirectConnector(vertx, "startup", () -> Future.succeededFuture(options))) {
            return prepare(connector, options, table, createSchema, timeout);
        }
    }

    private static Head prepare(DirectConnector connector, PgConnectOptions options, BusTable table,
            boolean createSchema, Duration timeout) {
        Future<PgConnection> connected = connector.connect();
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
        Future<Head> work = connected.compose(connection -> checkServer(connection, options)
                .compose(v -> schemaIsCurrent(connection, table))
                .compose(current -> current ? Future.succeededFuture()
                        : createSchema
                                ? underSchemaLock(connection, table, () -> run(connection, quietly(table.createSchema())))
                                : Future.failedFuture(new IllegalStateException("the table or its companions are missing"
                                        + " or of an older version (this version needs the columns xid, position,"
                                        + " traceparent and message_key, the tables " + table.name() + "_state (with"
                                        + " epoch_base), " + table.name() + "_purged and " + table.name() + "_groups"
                                        + " (with partitions), the indexes, and the function " + table.name()
                                        + "_send_one of this version)")))
                .compose(v -> head(connection, table))
                .compose(head -> sequencer(connection, table)
                        .map(sequencer -> new Head(head.epoch(), head.position(), sequencer)))
                .eventually(() -> connection.close()));
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
            throw new IllegalStateException("Bus Alt Connection cannot use its table '" + table.describe() + "': "
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

    private static Future<Boolean> schemaIsCurrent(PgConnection connection, BusTable table) {
        return connection.preparedQuery(table.schemaIsCurrent()).execute(Tuple.tuple(table.lastSchemaObjects()))
                .map(rows -> rows.iterator().next().getBoolean(0));
    }

    /** The statements, without PostgreSQL's "already exists, skipping" notices, which Vert.x would log as warnings. */
    private static List<String> quietly(List<String> statements) {
        List<String> all = new java.util.ArrayList<>();
        all.add("SET client_min_messages = warning");
        all.addAll(statements);
        all.add("RESET client_min_messages");
        return all;
    }

    private static Future<Void> run(PgConnection connection, List<String> statements) {
        Future<Void> done = Future.succeededFuture();
        for (String statement : statements) {
            done = done.compose(v -> connection.query(statement).execute()).mapEmpty();
        }
        return done;
    }

    private static <T> Future<T> underSchemaLock(PgConnection connection, BusTable table, Supplier<Future<T>> work) {
        Tuple key = Tuple.of(table.lockKey());
        return connection.preparedQuery("SELECT pg_advisory_lock(" + BusTable.schemaLockSql() + ")").execute(key)
                .compose(locked -> work.get())
                .eventually(() -> connection
                        .preparedQuery("SELECT pg_advisory_unlock(" + BusTable.schemaLockSql() + ")").execute(key));
    }

    private static Future<Optional<String>> sequencer(PgConnection connection, BusTable table) {
        return connection.preparedQuery(table.sequencerHolder()).execute(Tuple.of(table.lockKey())).map(rows -> {
            if (rows.size() == 0) {
                return Optional.empty();
            }
            Row row = rows.iterator().next();
            String application = row.getString(1);
            String address = row.getString(2);
            return Optional.of("backend pid " + row.getInteger(0)
                    + (application == null ? "" : ", application_name '" + application + "'")
                    + (address == null ? "" : ", client " + address));
        });
    }

    /** Reads the head; in a copy of another database's bus (a restored dump), starts a new epoch first. */
    private static Future<Head> head(PgConnection connection, BusTable table) {
        return connection.query(table.head()).execute().compose(rows -> {
            Row state = rows.iterator().next();
            if (!state.getBoolean(3)) {
                return Future.succeededFuture(new Head(state.getLong(0), state.getLong(1), Optional.empty()));
            }
            return underSchemaLock(connection, table, () -> connection.query(table.head()).execute()
                    .compose(again -> {
                        Row current = again.iterator().next();
                        return current.getBoolean(3)
                                ? connection.preparedQuery(table.startNewEpoch()).execute(Tuple.of(current.getLong(0)))
                                        .<Void> mapEmpty()
                                : Future.<Void> succeededFuture();
                    })
                    .compose(v -> connection.query(table.head()).execute())
                    .map(head -> {
                        Row row = head.iterator().next();
                        LOG.warnf("The bus table '%s' was copied from another database (a restored dump?): new epoch"
                                + " %d from position %d. HTTP clients holding positions of the old epoch are told to"
                                + " reload", table.describe(), row.getLong(0), row.getLong(1));
                        return new Head(row.getLong(0), row.getLong(1), Optional.empty());
                    }));
        });
    }
}
