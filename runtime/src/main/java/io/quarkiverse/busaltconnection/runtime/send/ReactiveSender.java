package io.quarkiverse.busaltconnection.runtime.send;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.ReactiveBus;
import io.quarkiverse.busaltconnection.runtime.MessageChecks;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;

/**
 * {@link ReactiveBus}: the INSERT {@code Bus.send} writes, through the caller's Vert.x client. The sequencer's wake-up
 * goes out once the row is committed (after the caller's transaction when there is one), carried by the INSERT's own
 * statement while the sequencer does not look on its own, as {@code Bus.send}'s does ({@link PooledBus#carry()}).
 */
@Singleton
public class ReactiveSender implements ReactiveBus {

    private static final Logger LOG = Logger.getLogger(ReactiveSender.class);

    private final PooledBus bus;
    private final BusTable table;
    private final BusObservers observers;

    @Inject
    ReactiveSender(PooledBus bus, BusTable table, BusObservers observers) {
        this.bus = bus;
        this.table = table;
        this.observers = observers;
    }

    /**
     * Through PgBouncer in transaction mode, the reactive client needs the settings the build makes its defaults
     * (layer-7-proxy mode, pipelining limit 1, no statement cache): say so when the application set otherwise for its
     * default reactive datasource.
     */
    void checkPoolerSafety(@Observes StartupEvent started) {
        Config config = ConfigProvider.getConfig();
        String cache = reactiveKey("cache-prepared-statements");
        if (config.getOptionalValue(cache, Boolean.class).orElse(false)) {
            LOG.warnf("%s is true: through PgBouncer in transaction mode, a cached prepared statement is missing on the"
                    + " next transaction's server connection (\"prepared statement ... does not exist\"). Remove the setting"
                    + " (the extension makes it false) unless this reactive datasource goes to PostgreSQL directly",
                    cache);
        }
        String proxy = reactiveKey("postgresql.use-layer7-proxy");
        if (!config.getOptionalValue(proxy, Boolean.class).orElse(true)) {
            LOG.warnf("%s is false: through PgBouncer in transaction mode, every statement outside a transaction then"
                    + " fails (\"unnamed prepared statement does not exist\"). Remove the setting (the extension makes"
                    + " it true) unless this reactive datasource goes to PostgreSQL directly", proxy);
        }
    }

    private static String reactiveKey(String property) {
        return DataSourceUtil.dataSourcePropertyKey(DataSourceUtil.DEFAULT_DATASOURCE_NAME, "reactive." + property);
    }

    @Override
    public Uni<Void> send(SqlClient client, String channel, String payload) {
        return send(client, channel, null, payload);
    }

    @Override
    public Uni<Void> send(SqlClient client, String channel, Object payload) {
        return send(client, channel, null, payload);
    }

    @Override
    public Uni<Void> send(SqlClient client, String channel, String key, Object payload) {
        if (payload == null || payload instanceof String) {
            return send(client, channel, key, (String) payload);
        }
        return Uni.createFrom().deferred(() -> send(client, channel, key, bus.json(channel, payload)));
    }

    @Override
    public Uni<Void> send(SqlClient client, String channel, String key, String payload) {
        return Uni.createFrom().deferred(() -> {
            MessageChecks.requireSendable(channel, key, payload);
            io.vertx.sqlclient.SqlClient core = client.getDelegate();
            Transaction transaction = core instanceof SqlConnection connection ? connection.transaction() : null;
            String traceparent = observers.sending(channel);
            boolean carries = bus.carry();
            if (!carries) {
                return Uni.createFrom().completionStage(() -> core.preparedQuery(table.insertOneReactive())
                        .execute(Tuple.of(channel, payload, traceparent, key)).toCompletionStage())
                        .invoke(() -> afterCommit(transaction, channel, false))
                        .replaceWithVoid();
            }
            // The statement notifies at its commit, the caller's transaction's when there is one: the carrier's slot is
            // free again when that transaction ended, whichever way.
            if (transaction != null) {
                transaction.completion().onComplete(ended -> bus.carriedEnded());
            }
            // Alone (a pool, or a connection without a transaction), the statement commits by itself and may number
            // its message too.
            long asked = System.nanoTime();
            Uni<RowSet<Row>> written = transaction != null
                    ? Uni.createFrom().completionStage(() -> core.preparedQuery(table.insertOneReactiveWaking())
                            .execute(Tuple.of(channel, payload, traceparent, key, table.writtenChannel()))
                            .toCompletionStage())
                    : Uni.createFrom().completionStage(() -> core.preparedQuery(table.insertOneReactiveNumbering())
                            .execute(Tuple.of(channel, payload, traceparent, key, table.writtenChannel(),
                                    table.headChannel(), bus.knownHead()))
                            .toCompletionStage());
            return written
                    .onTermination().invoke(() -> {
                        if (transaction == null) {
                            bus.carriedEnded();
                        }
                    })
                    .invoke(answer -> afterCommit(transaction, channel, noWakeUpNeeded(asked, answer, transaction)))
                    .replaceWithVoid();
        });
    }

    /** Whether a write that carried the wake-up leaves nothing for the sequencer to be woken for after its commit. */
    private boolean noWakeUpNeeded(long asked, RowSet<Row> answer, Transaction transaction) {
        if (!answer.iterator().hasNext()) {
            return false;
        }
        Row row = answer.iterator().next();
        return transaction != null ? bus.answered(asked, null, row.getDouble(0))
                : bus.answered(asked, row.getLong(0), row.getDouble(1));
    }

    /**
     * Wakes the sequencer once the row is committed, unless its statement {@code notified}: now, or when the client's
     * transaction commits.
     */
    private void afterCommit(Transaction transaction, String channel, boolean notified) {
        if (transaction == null) {
            bus.written(channel, notified);
        } else {
            transaction.completion().onSuccess(committed -> bus.written(channel, notified));
        }
    }
}
