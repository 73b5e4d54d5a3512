package io.quarkiverse.busaltconnection.bench;

import java.util.concurrent.TimeUnit;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Tuple;

/**
 * The baselines' listener: a bare Vert.x {@link PgSubscriber}, one connection straight to PostgreSQL, LISTEN on one
 * channel, event-driven (no polling). For the outbox, each notification carries a row id and the listener reads the
 * row on the same connection before the message counts as received, as an outbox consumer must.
 * <p>
 * Not pgjdbc's {@code getNotifications(timeout)} loop: measured here, that loop alone put p50 at about 19 ms for raw
 * pg_notify at 1,000 messages per second (0.3 ms with this subscriber), which would flatter everything compared to
 * it.
 */
final class BareListener implements AutoCloseable {

    static final String RAW_CHANNEL = "bench_raw";
    static final String OUTBOX_CHANNEL = "bench_outbox";

    private final Vertx vertx = Vertx.vertx();
    private final PgSubscriber subscriber;
    private volatile Receiver receiver = new Receiver("");

    BareListener(Servers servers, String channel, boolean readsRow) throws Exception {
        subscriber = PgSubscriber.subscriber(vertx, new PgConnectOptions().setHost(servers.host())
                .setPort(servers.postgresPort()).setDatabase(servers.database()).setUser(servers.user())
                .setPassword(servers.password()));
        subscriber.channel(channel).handler(readsRow ? this::readRow : payload -> receiver.record(payload));
        subscriber.connect().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        // Answered after the LISTEN the subscriber sent on connecting: from here on, nothing is missed.
        subscriber.actualConnection().query("SELECT 1").execute().toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    /** Starts a new run: its messages arriving from now on count for the returned receiver. */
    Receiver expect(String run) {
        receiver = new Receiver(run);
        return receiver;
    }

    private void readRow(String id) {
        Receiver current = receiver;
        subscriber.actualConnection().preparedQuery("SELECT payload FROM bench_outbox WHERE id = $1")
                .execute(Tuple.of(Long.parseLong(id)))
                .onSuccess(rows -> rows.forEach(row -> current.record(row.getString(0))));
    }

    @Override
    public void close() throws Exception {
        subscriber.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
