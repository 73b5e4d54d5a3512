package io.quarkiverse.busaltconnection.runtime.listen;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgNotification;
import io.vertx.sqlclient.SqlClient;

/**
 * The one direct connection of an application instance that carries LISTEN for every channel. After each loss it
 * connects again with {@link ReconnectBackoff}, for as long as the application runs, asking
 * {@link DirectCredentials} for the options each time (so rotated credentials are used), and LISTENs again on every
 * channel.
 */
public final class ListenerConnection {

    private static final Logger LOG = Logger.getLogger(ListenerConnection.class);

    private final Vertx vertx;
    /**
     * The event loop of every connection this makes, so that whoever shares it (the sequencer) handles notifications,
     * queries and their results on one thread, whatever connection is the current one.
     */
    private final Context context;
    private final DirectCredentials connectOptions;
    private final DirectConnector connector;
    private final ReconnectBackoff backoff;
    private final Map<String, Consumer<String>> channels = new LinkedHashMap<>();
    private final Map<String, Consumer<String>> onDemand = new LinkedHashMap<>();
    private final AtomicLong connections = new AtomicLong();
    private final List<Runnable> listeningCallbacks = new ArrayList<>();
    private volatile PgConnection connection;
    private volatile boolean started;
    private volatile boolean closed;
    private final AtomicInteger failedAttempts = new AtomicInteger();

    public ListenerConnection(Vertx vertx, DirectCredentials connectOptions, ImDispatcherConfig.Reconnect reconnect) {
        this.vertx = vertx;
        this.context = ((VertxInternal) vertx).createEventLoopContext();
        this.connectOptions = connectOptions;
        this.connector = new DirectConnector(vertx, "listener", connectOptions::get);
        this.backoff = new ReconnectBackoff(reconnect.initialDelay(), reconnect.maxDelay());
    }

    /**
     * Registers a channel; all channels must be registered before {@link #start}, so that one LISTEN statement
     * covers them on every (re)connection.
     */
    public void listen(String channel, Consumer<String> payloads) {
        if (started) {
            throw new IllegalStateException("channels are registered before the listener connection starts");
        }
        channels.put(channel, payloads);
    }

    /**
     * Registers a channel that is not listened to at every (re)connection, only when asked with {@link #listenNow} on
     * the connection of the moment: the senders' wake-ups, which only the instance holding the sequencer's lock needs
     * to hear (PostgreSQL signals every listening backend of the database for every notification, whatever its
     * channel). Registered before {@link #start}.
     */
    public void register(String channel, Consumer<String> payloads) {
        if (started) {
            throw new IllegalStateException("channels are registered before the listener connection starts");
        }
        onDemand.put(channel, payloads);
    }

    /** LISTENs on {@code client}, the listening connection of the moment, to a channel {@link #register}ed. */
    public Future<Void> listenNow(SqlClient client, String channel) {
        if (!onDemand.containsKey(channel)) {
            throw new IllegalArgumentException("channel " + channel + " is not registered");
        }
        return client.query(listen(channel)).execute().mapEmpty();
    }

    /**
     * Runs {@code callback} on the connection's event loop each time LISTEN went through: at startup and after
     * every reconnection. Registered before {@link #start}.
     */
    public void onListening(Runnable callback) {
        listeningCallbacks.add(callback);
    }

    /** The event loop on which the listening connection's notifications and query results arrive. */
    public Context context() {
        return context;
    }

    /** The listening connection, for queries that must see the same server; null while disconnected. */
    public SqlClient sqlClient() {
        return connection;
    }

    /**
     * Connects and LISTENs, waiting at most the connect timeout.
     *
     * @throws IllegalStateException naming the configuration keys to check, if that fails
     */
    public void start(Duration timeout) {
        started = true;
        try {
            connectAndListen().toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
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
        // Nothing may linger after a failed start: a connection that comes up late is closed at once.
        close();
        return DirectConnectOptions.unreachable(options(), "LISTEN failed: " + reason, cause);
    }

    private Future<PgConnection> connectAndListen() {
        return connector.connect(context)
                .compose(connected -> {
                    connected.notificationHandler(this::dispatch);
                    return connected.query(listenStatement()).execute()
                            .map(listened -> connected)
                            .onFailure(notListening -> connected.close());
                })
                .onSuccess(this::listening);
    }

    /**
     * What this session sets before it LISTENs: it also carries the sequencer's and the readers' statements, prepared
     * once and then planned generically. JIT goes off: once the bus's tables are large, PostgreSQL's planner costs the
     * sequencer's statement past {@code jit_above_cost}, and compiling it took about a second of CPU per run. Sequential
     * scans go off where an index serves: a slot that retention truncated is soon analyzed empty (the truncated rows
     * count as changes), a plan made then reads it whole for each message it looks up, and that plan lasts while the
     * slot fills again, until the next analyze.
     */
    public static final String SESSION_SETTINGS = "SET jit = off; SET enable_seqscan = off";

    /**
     * One LISTEN per channel, in one simple query: channel names are quoted identifiers, never spliced raw. Before
     * them, the {@link #SESSION_SETTINGS}.
     */
    private String listenStatement() {
        return SESSION_SETTINGS + "; " + channels.keySet().stream().map(ListenerConnection::listen)
                .collect(Collectors.joining("; "));
    }

    private static String listen(String channel) {
        return "LISTEN \"" + channel.replace("\"", "\"\"") + "\"";
    }

    private void dispatch(PgNotification notification) {
        Consumer<String> handler = channels.getOrDefault(notification.getChannel(),
                onDemand.get(notification.getChannel()));
        if (handler != null) {
            handler.accept(notification.getPayload());
        }
    }

    /** On the new connection's event loop. */
    private void listening(PgConnection connected) {
        if (closed) {
            connected.close();
            return;
        }
        connected.closeHandler(lost -> lost(connected));
        connection = connected;
        failedAttempts.set(0);
        if (connections.getAndIncrement() == 0) {
            LOG.debugf("Bus listener connected to %s, listening on %s", describe(), channels.keySet());
        } else {
            LOG.infof("Bus listener reconnected to %s, listening again on %d channel(s)", describe(),
                    channels.size());
        }
        listeningCallbacks.forEach(Runnable::run);
    }

    private void lost(PgConnection lostConnection) {
        if (connection == lostConnection) {
            connection = null;
        }
        if (!closed) {
            scheduleReconnect();
        }
    }

    private void scheduleReconnect() {
        int attempt = failedAttempts.getAndIncrement();
        long delay = backoff.apply(attempt);
        LOG.warnf("Bus listener connection to %s lost; reconnecting in %d ms (attempt %d)", describe(), delay,
                attempt + 1);
        vertx.setTimer(delay, timer -> {
            if (closed) {
                return;
            }
            connectAndListen().onFailure(error -> {
                LOG.debugf("Bus listener could not reconnect to %s: %s", describe(), error.getMessage());
                if (!closed) {
                    scheduleReconnect();
                }
            });
        });
    }

    /**
     * Drops the current connection so that it is made again (and LISTEN re-issued), with the usual backoff: for a
     * connection that looks alive but hears nothing.
     */
    public void reconnect() {
        PgConnection current = connection;
        if (current != null) {
            current.close();
        }
    }

    /** Whether the connection is up and LISTEN went through. */
    public boolean listening() {
        return connection != null;
    }

    /** How many times the connection came back after being lost. */
    public long reconnections() {
        return Math.max(0, connections.get() - 1);
    }

    /** PostgreSQL backend process id of the listening connection, or -1 while disconnected. */
    public int backendPid() {
        PgConnection current = connection;
        return current == null ? -1 : current.processId();
    }

    /** The options resolved from configuration (the user a credentials provider gives may differ). */
    public PgConnectOptions options() {
        return connectOptions.base();
    }

    private String describe() {
        return DirectConnectOptions.describe(options());
    }

    public void close() {
        closed = true;
        PgConnection current = connection;
        connection = null;
        if (current != null) {
            current.close();
        }
        connector.close();
    }
}
