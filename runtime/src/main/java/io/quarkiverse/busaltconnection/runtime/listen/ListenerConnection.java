package io.quarkiverse.busaltconnection.runtime.listen;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.SqlClient;

/**
 * The one direct connection of an application instance that carries LISTEN for every channel, built on Vert.x
 * {@link PgSubscriber}: it re-issues LISTEN for all channels after each reconnection, and reconnects with
 * {@link ReconnectBackoff} for as long as the application runs.
 */
public final class ListenerConnection {

    private static final Logger LOG = Logger.getLogger(ListenerConnection.class);

    private final PgSubscriber subscriber;
    private final PgConnectOptions options;
    private final List<String> channels = new ArrayList<>();
    private final AtomicLong connections = new AtomicLong();
    private final List<Runnable> listeningCallbacks = new ArrayList<>();
    private volatile boolean listening;
    private volatile boolean started;

    public ListenerConnection(Vertx vertx, PgConnectOptions options, ImDispatcherConfig.Reconnect reconnect) {
        this.options = options;
        ReconnectBackoff backoff = new ReconnectBackoff(reconnect.initialDelay(), reconnect.maxDelay());
        this.subscriber = PgSubscriber.subscriber(vertx, options)
                .reconnectPolicy(attempt -> {
                    listening = false;
                    long delay = backoff.apply(attempt);
                    LOG.warnf("Bus listener connection to %s lost; reconnecting in %d ms (attempt %d)",
                            DirectConnectOptions.describe(options), delay, attempt + 1);
                    return delay;
                });
    }

    /**
     * Registers a channel; all channels must be registered before {@link #start}, so that one LISTEN statement
     * covers them on every (re)connection.
     */
    public void listen(String channel, Consumer<String> payloads) {
        if (started) {
            throw new IllegalStateException("channels are registered before the listener connection starts");
        }
        boolean first = channels.isEmpty();
        channels.add(channel);
        var pgChannel = subscriber.channel(channel);
        if (first) {
            // PgSubscriber calls every channel's subscribe handler after each successful LISTEN; one is enough to
            // follow the connection's state.
            pgChannel.subscribeHandler(v -> onListening());
        }
        pgChannel.handler(payloads::accept);
    }

    /**
     * Runs {@code callback} on the connection's event loop each time LISTEN went through: at startup and after
     * every reconnection. Registered before {@link #start}.
     */
    public void onListening(Runnable callback) {
        listeningCallbacks.add(callback);
    }

    /** The listening connection, for queries that must see the same server; null while disconnected. */
    public SqlClient sqlClient() {
        return subscriber.actualConnection();
    }

    /**
     * Connects and LISTENs, waiting at most the connect timeout.
     *
     * @throws IllegalStateException naming the configuration keys to check, if that fails
     */
    public void start(Duration timeout) {
        started = true;
        try {
            subscriber.connect().toCompletionStage().toCompletableFuture()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("startup was interrupted", e);
        } catch (ExecutionException e) {
            throw failure(String.valueOf(e.getCause().getMessage()), e.getCause());
        } catch (TimeoutException e) {
            throw failure("no answer within " + timeout.toMillis() + " ms (quarkus.imdispatcher.connect-timeout)", e);
        }
    }

    private IllegalStateException failure(String reason, Throwable cause) {
        // A failed first connect leaves PgSubscriber neither connected nor closed; close it so nothing lingers.
        subscriber.close();
        return DirectConnectOptions.unreachable(options, "LISTEN failed: " + reason, cause);
    }

    private void onListening() {
        if (listening) {
            return;
        }
        listening = true;
        if (connections.getAndIncrement() == 0) {
            LOG.debugf("Bus listener connected to %s, listening on %s", DirectConnectOptions.describe(options),
                    channels);
        } else {
            LOG.infof("Bus listener reconnected to %s, listening again on %d channel(s)",
                    DirectConnectOptions.describe(options), channels.size());
        }
        listeningCallbacks.forEach(Runnable::run);
    }

    /**
     * Drops the current connection so that it is made again (and LISTEN re-issued), with the usual backoff: for a
     * connection that looks alive but hears nothing.
     */
    public void reconnect() {
        var connection = subscriber.actualConnection();
        if (connection != null) {
            connection.close();
        }
    }

    /** Whether the connection is up and LISTEN went through. */
    public boolean listening() {
        return listening && subscriber.actualConnection() != null;
    }

    /** How many times the connection came back after being lost. */
    public long reconnections() {
        return Math.max(0, connections.get() - 1);
    }

    /** PostgreSQL backend process id of the listening connection, or -1 while disconnected. */
    public int backendPid() {
        var connection = subscriber.actualConnection();
        return connection == null ? -1 : connection.processId();
    }

    public PgConnectOptions options() {
        return options;
    }

    public void close() {
        listening = false;
        subscriber.close();
    }
}
