package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnectOptions;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.vertx.core.Vertx;

/**
 * Fans the notifications of the instance's one listening connection out to the {@code @BusListener} methods of
 * their channel. Injectable, to see how the listener is doing.
 */
public class BusDispatcher {

    private static final Logger LOG = Logger.getLogger(BusDispatcher.class);

    private final ListenerConnection connection;
    private final Map<String, List<ListenerDelivery>> deliveriesByChannel = new LinkedHashMap<>();
    /** Written only by the listening connection's event loop, which delivers one notification at a time. */
    private final AtomicLong lastId = new AtomicLong();
    private final AtomicReference<Instant> lastNotification = new AtomicReference<>();

    /**
     * Builds the dispatcher for {@code listeners}, connects its listening connection and LISTENs; returns when
     * PostgreSQL has confirmed LISTEN for every channel, so nothing committed after startup is missed.
     *
     * @throws IllegalStateException naming the configuration to check, if the connection cannot be made in time
     */
    public static BusDispatcher start(ListenerConnection connection, List<ListenerMethod> listeners,
            ObjectMapper objectMapper, Vertx vertx, Executor virtualThreads, Duration timeout) {
        List<ListenerDelivery> deliveries = listeners.stream()
                .map(listener -> new ListenerDelivery(listener, objectMapper, vertx, virtualThreads))
                .toList();
        BusDispatcher dispatcher = new BusDispatcher(connection, deliveries);
        dispatcher.start(timeout);
        return dispatcher;
    }

    private BusDispatcher(ListenerConnection connection, List<ListenerDelivery> deliveries) {
        this.connection = connection;
        for (ListenerDelivery delivery : deliveries) {
            deliveriesByChannel.computeIfAbsent(delivery.channel(), c -> new ArrayList<>()).add(delivery);
        }
        deliveriesByChannel.forEach((channel, listeners) -> connection.listen(channel,
                payload -> dispatch(channel, payload, listeners)));
    }

    private void start(Duration timeout) {
        if (deliveriesByChannel.isEmpty()) {
            LOG.debug("No @BusListener methods: the bus listener connection is not opened");
            return;
        }
        connection.start(timeout);
        LOG.infof("Bus listener connected to %s (backend pid %d), listening on %d channel(s) for %d listener(s)",
                DirectConnectOptions.describe(connection.options()), connection.backendPid(),
                deliveriesByChannel.size(), deliveriesByChannel.values().stream().mapToInt(List::size).sum());
    }

    private void dispatch(String channel, String payload, List<ListenerDelivery> listeners) {
        Instant now = Instant.now();
        BusMessage message = new BusMessage(channel, lastId.incrementAndGet(), now, payload == null ? "" : payload);
        lastNotification.set(now);
        for (ListenerDelivery listener : listeners) {
            listener.deliver(message);
        }
    }

    /** Whether the listening connection is up and LISTEN went through (false when there are no listeners). */
    public boolean listening() {
        return connection.listening();
    }

    /** The channels listened on, in registration order. */
    public List<String> channels() {
        return List.copyOf(deliveriesByChannel.keySet());
    }

    /** Id of the last notification received, 0 before the first. */
    public long lastMessageId() {
        return lastId.get();
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
        connection.close();
    }
}
