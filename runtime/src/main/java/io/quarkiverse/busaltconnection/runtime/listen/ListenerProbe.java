package io.quarkiverse.busaltconnection.runtime.listen;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import io.vertx.sqlclient.SqlClient;

/**
 * Checks end to end that the listener hears what the application sends: a notification with a nonce goes out
 * through the datasource (the pooled path, as {@code Bus.send} does) and must come back on the listening
 * connection. It fails when the listener sits behind a transaction pooler, on another server or database, or has
 * gone deaf. Every instance listens on the probe channel; each only waits for its own nonces.
 */
public final class ListenerProbe {

    private static final Logger LOG = Logger.getLogger(ListenerProbe.class);

    private final String channel;
    private final DataSource dataSource;
    private final Duration timeout;
    private final ListenerConnection connection;
    private final String instance = UUID.randomUUID().toString();
    private final AtomicLong sequence = new AtomicLong();
    private final Map<String, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
    private volatile Instant lastHeard;
    private volatile Optional<String> sendFailure = Optional.empty();

    /** How a probe ended. */
    public enum Outcome {
        /** It came back. */
        HEARD,
        /** It could not be sent through the datasource: the pooled path is the problem, not the listener. */
        NOT_SENT,
        /** It was sent but never came back: the listener is deaf. */
        NOT_HEARD,
        /**
         * It did not come back, but the listening connection was lost or made again while it was out (a restart of
         * PostgreSQL drops the notifications it had not delivered): nothing to conclude.
         */
        LISTENER_CHANGED
    }

    /** A probe's outcome, and why when it did not come back. */
    public record Result(Outcome outcome, Optional<String> reason) {

        static Result heard() {
            return new Result(Outcome.HEARD, Optional.empty());
        }
    }

    /** Listens on {@code connection}, which must not have started yet, for the probes that come back. */
    public ListenerProbe(String channel, DataSource dataSource, Duration timeout, ListenerConnection connection) {
        this.channel = channel;
        this.dataSource = dataSource;
        this.timeout = timeout;
        this.connection = connection;
        connection.listen(channel, this::onNotification);
    }

    /** A notification on the probe channel, from this instance or another. */
    private void onNotification(String payload) {
        CompletableFuture<Void> waiting = payload == null ? null : pending.remove(payload);
        if (waiting != null) {
            lastHeard = Instant.now();
            waiting.complete(null);
        }
    }

    /** Sends a probe and waits for it, telling a probe that could not be sent from one that was not heard. Blocking. */
    public Result check() {
        String nonce = instance + ":" + sequence.incrementAndGet();
        CompletableFuture<Void> heard = new CompletableFuture<>();
        pending.put(nonce, heard);
        SqlClient listening = connection.sqlClient();
        try {
            try (Connection connection = dataSource.getConnection();
                    PreparedStatement notify = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
                notify.setString(1, channel);
                notify.setString(2, nonce);
                notify.execute();
            }
            sendFailure = Optional.empty();
            heard.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return Result.heard();
        } catch (SQLException e) {
            String reason = "the probe could not be sent through the datasource (the pooled path): " + e.getMessage();
            sendFailure = Optional.of(reason);
            return new Result(Outcome.NOT_SENT, Optional.of(reason));
        } catch (TimeoutException e) {
            if (listening == null || connection.sqlClient() != listening) {
                return new Result(Outcome.LISTENER_CHANGED, Optional.of("the listening connection was lost or made"
                        + " again while the probe was out"));
            }
            return new Result(Outcome.NOT_HEARD, Optional.of("a probe sent through the datasource did not come back"
                    + " on the listener within " + timeout.toMillis() + " ms (quarkus.imdispatcher.probe.timeout)"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(Outcome.NOT_SENT, Optional.of("interrupted"));
        } catch (ExecutionException e) {
            return new Result(Outcome.NOT_HEARD, Optional.of(String.valueOf(e.getCause())));
        } finally {
            pending.remove(nonce);
        }
    }

    /**
     * The periodic check (blocking). A probe that was sent but does not come back means the listener hears nothing
     * although its connection looks alive: it is made again. A probe that could not be sent says nothing about the
     * listener (PgBouncer may be down), nor does one lost with the listening connection: it is not reconnected.
     *
     * @param stopping whether the application is stopping: then the datasource and the listener close under the probe,
     *        and its outcome says nothing
     */
    public void recheck(BooleanSupplier stopping) {
        Result result = check();
        if (stopping.getAsBoolean()) {
            return;
        }
        if (result.outcome() == Outcome.NOT_HEARD) {
            LOG.errorf("Bus listener at %s is deaf: %s; reconnecting it", DirectConnectOptions.describe(
                    connection.options()), result.reason().orElse(""));
            connection.reconnect();
        } else if (result.outcome() == Outcome.NOT_SENT) {
            LOG.warnf("The bus listener could not be probed: %s", result.reason().orElse(""));
        } else if (result.outcome() == Outcome.LISTENER_CHANGED) {
            LOG.debugf("A probe of the bus listener did not come back: %s", result.reason().orElse(""));
        }
    }

    /** Why the last probe could not be sent, while the datasource fails. */
    public Optional<String> sendFailure() {
        return sendFailure;
    }

    /** When a probe last came back. */
    public Optional<Instant> lastHeard() {
        return Optional.ofNullable(lastHeard);
    }
}
