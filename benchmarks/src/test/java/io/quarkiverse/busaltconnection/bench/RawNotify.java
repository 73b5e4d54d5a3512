package io.quarkiverse.busaltconnection.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;

/**
 * The baseline: plain {@code pg_notify} over pgjdbc through the same PgBouncer, heard by a bare Vert.x
 * {@link PgSubscriber} connected directly to PostgreSQL.
 */
final class RawNotify implements AutoCloseable {

    private final Servers servers;
    private final Vertx vertx = Vertx.vertx();
    private final PgSubscriber subscriber;
    private volatile Receiver receiver = new Receiver();

    RawNotify(Servers servers) throws Exception {
        this.servers = servers;
        subscriber = PgSubscriber.subscriber(vertx, new PgConnectOptions().setHost(servers.host())
                .setPort(servers.postgresPort()).setDatabase(servers.database()).setUser(servers.user())
                .setPassword(servers.password()));
        subscriber.channel("rawbench").handler(payload -> receiver.record(payload));
        subscriber.connect().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Sends {@code count} notifications, {@code batch} per transaction, at {@code rate}/s (0: flat out). */
    Receiver run(String run, int count, int batch, int rate) throws Exception {
        receiver = new Receiver();
        try (Connection connection = DriverManager.getConnection(servers.pooledUrl(), servers.user(),
                servers.password()); PreparedStatement notify = connection.prepareStatement(
                        "SELECT pg_notify('rawbench', ?)")) {
            connection.setAutoCommit(batch <= 1);
            long start = System.nanoTime();
            for (int i = 0; i < count; i += Math.max(1, batch)) {
                if (rate > 0) {
                    long wait = start + (long) (i * 1e9 / rate) - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                }
                for (int j = i; j < Math.min(count, i + Math.max(1, batch)); j++) {
                    notify.setString(1, run + ":" + j + ":" + Latencies.nowMicros());
                    notify.execute();
                }
                if (batch > 1) {
                    connection.commit();
                }
            }
        }
        receiver.await(count, 120_000);
        return receiver;
    }

    @Override
    public void close() {
        subscriber.close();
        vertx.close();
    }
}
