package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.NotifyLimits;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnectOptions;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerProbe;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.vertx.core.Vertx;

/**
 * Fans out what the instance's one listening connection receives: committed bus messages (through {@link BusFeed})
 * to the {@code @BusListener} methods of their channel and to HTTP subscribers, and plain notifications sent by
 * others on a listener's channel to that listener. Injectable, to see how the listener is doing.
 */
public class BusDispatcher {

    private static final Logger LOG = Logger.getLogger(BusDispatcher.class);

    private final ListenerConnection connection;
    private final Map<String, List<ListenerDelivery>> deliveriesByChannel = new LinkedHashMap<>();
    /** A set: thousands of HTTP clients come and go, and removal from a copy-on-write list is linear per client. */
    private final Set<Consumer<BusMessage>> subscribers = ConcurrentHashMap.newKeySet();
    private final AtomicReference<Instant> lastNotification = new AtomicReference<>();
    private final BusFeed feed;
    private final Optional<ListenerProbe> probe;
    private volatile boolean active;

    /** What the dispatcher needs to start. */
    public record Setup(ListenerConnection connection, List<ListenerMethod> listeners, BusTable table,
            long startAfterId, boolean listenWithoutListeners, Optional<ListenerProbe> probe, ObjectMapper json,
            Vertx vertx, Supplier<Executor> virtualThreads) {
    }

    /**
     * Builds the dispatcher, connects its listening connection and LISTENs; returns when PostgreSQL has confirmed
     * LISTEN for every channel, so nothing committed after startup is missed.
     *
     * @throws IllegalStateException naming the configuration to check, if the connection cannot be made in time
     */
    public static BusDispatcher start(Setup setup, Duration timeout) {
        BusDispatcher dispatcher = new BusDispatcher(setup);
        if (setup.listeners().isEmpty() && !setup.listenWithoutListeners()) {
            LOG.debug("No @BusListener methods and no HTTP delivery: the bus listener connection is not opened");
            return dispatcher;
        }
        setup.connection().start(timeout);
        dispatcher.active = true;
        Optional<String> deaf = dispatcher.probe.flatMap(ListenerProbe::probe);
        if (deaf.isPresent()) {
            dispatcher.close();
            throw new IllegalStateException("Bus Alt Connection's listener at "
                    + DirectConnectOptions.describe(setup.connection().options()) + " does not hear the application: "
                    + deaf.get() + ". The datasource (quarkus.datasource.jdbc.url) and the listener"
                    + " (quarkus.imdispatcher.db-host / db-port / db-name) must reach the same PostgreSQL database,"
                    + " the listener directly, not through a transaction pooler. Set quarkus.imdispatcher.probe.enabled"
                    + "=false only if notifications sent through the datasource cannot reach the listener by design.");
        }
        LOG.infof("Bus listener connected to %s (backend pid %d), listening for %d listener(s) on %d channel(s)",
                DirectConnectOptions.describe(setup.connection().options()), setup.connection().backendPid(),
                setup.listeners().size(), dispatcher.deliveriesByChannel.size());
        return dispatcher;
    }

    private BusDispatcher(Setup setup) {
        this.connection = setup.connection();
        for (ListenerMethod listener : setup.listeners()) {
            deliveriesByChannel.computeIfAbsent(listener.channel, c -> new ArrayList<>())
                    .add(new ListenerDelivery(listener, setup.json(), setup.vertx(), setup.virtualThreads()));
        }
        this.feed = new BusFeed(setup.table(), setup.json(), connection::sqlClient, this::dispatchStored,
                setup.startAfterId());
        this.probe = setup.probe();
        // The table's channel first: its subscribe handler tells the feed about every (re)LISTEN.
        connection.listen(setup.table().name(), feed::onWakeUp);
        connection.onListening(feed::onListening);
        probe.ifPresent(p -> connection.listen(p.channel(), p::onNotification));
        deliveriesByChannel.forEach((channel, listeners) -> {
            // Plain NOTIFY interop, for channels PostgreSQL can carry.
            if (NotifyLimits.channelProblem(channel).isEmpty() && !channel.equals(setup.table().name())) {
                connection.listen(channel, payload -> dispatchPlain(channel, payload, listeners));
            }
        });
    }

    private void dispatchStored(StoredMessage stored) {
        lastNotification.set(Instant.now());
        BusMessage message = new BusMessage(stored.channel(), stored.id(), stored.createdAt(), stored.payload());
        for (ListenerDelivery listener : deliveriesByChannel.getOrDefault(stored.channel(), List.of())) {
            listener.deliver(message);
        }
        for (Consumer<BusMessage> subscriber : subscribers) {
            try {
                subscriber.accept(message);
            } catch (RuntimeException e) {
                LOG.errorf(e, "A bus subscriber failed on message %d of channel '%s'", message.id(), message.channel());
            }
        }
    }

    private void dispatchPlain(String channel, String payload, List<ListenerDelivery> listeners) {
        Instant now = Instant.now();
        lastNotification.set(now);
        BusMessage message = new BusMessage(channel, 0, now, payload == null ? "" : payload);
        for (ListenerDelivery listener : listeners) {
            listener.deliver(message);
        }
    }

    /**
     * Receives every committed bus message, in commit order, on the listening connection's event loop: must not
     * block.
     */
    public void subscribe(Consumer<BusMessage> subscriber) {
        subscribers.add(subscriber);
    }

    public void unsubscribe(Consumer<BusMessage> subscriber) {
        subscribers.remove(subscriber);
    }

    /** Whether the dispatcher opened a listening connection (it has listeners, or HTTP delivery is enabled). */
    public boolean active() {
        return active;
    }

    /** Whether the listening connection is up and LISTEN went through. */
    public boolean listening() {
        return connection.listening();
    }

    /**
     * Sends a probe through the datasource and waits for it on the listener (blocking). A probe that does not come
     * back means the listener hears nothing although its connection looks alive: it is made again.
     *
     * @return empty if the probe came back, else why not
     */
    public Optional<String> probe() {
        if (probe.isEmpty() || !active) {
            return Optional.empty();
        }
        Optional<String> failure = probe.get().probe();
        failure.ifPresent(reason -> {
            LOG.errorf("Bus listener at %s is deaf: %s; reconnecting it",
                    DirectConnectOptions.describe(connection.options()), reason);
            connection.reconnect();
        });
        return failure;
    }

    /** When a probe last came back, if probing is enabled. */
    public Optional<Instant> lastProbe() {
        return probe.flatMap(ListenerProbe::lastHeard);
    }

    /** Host, port, database and user of the listening connection (never the password). */
    public String server() {
        return DirectConnectOptions.describe(connection.options());
    }

    /** The channels of the {@code @BusListener} methods. */
    public List<String> channels() {
        return List.copyOf(deliveriesByChannel.keySet());
    }

    /** Id of the last bus message delivered (the newest in the table at startup, before the first). */
    public long lastMessageId() {
        return feed.lastId();
    }

    /** When the last notification was received. */
    public Optional<Instant> lastNotificationTime() {
        return Optional.ofNullable(lastNotification.get());
    }

    /** How many times the listening connection came back after being lost. */
    public long reconnections() {
        return connection.reconnections();
    }

    /** PostgreSQL backend pid of the listening connection, or -1 while it is not connected. */
    public int backendPid() {
        return connection.backendPid();
    }

    /** Closes the listening connection; no listener is invoked afterwards. */
    public void close() {
        active = false;
        connection.close();
    }
}
