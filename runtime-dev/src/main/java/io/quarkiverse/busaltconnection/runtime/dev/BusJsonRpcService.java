package io.quarkiverse.busaltconnection.runtime.dev;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusDispatcher;
import io.quarkiverse.busaltconnection.runtime.pgbouncer.PgBouncerConsole;
import io.quarkiverse.busaltconnection.runtime.pgbouncer.PoolStatistics;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.BroadcastProcessor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The Dev UI card's backend (dev mode only): the listener's state, the {@code @BusListener} methods with their
 * counts, the last messages and a live feed of them, a test message, PgBouncer's pools. Payloads are shown as they
 * are: this is the developer's own machine.
 */
@Singleton
public class BusJsonRpcService {

    /** How many of the last messages the card shows when it opens. */
    static final int RECENT = 50;

    private final BusDispatcher dispatcher;
    private final Bus bus;
    private final PgBouncerConsole pgbouncer;
    private final Deque<JsonObject> recent = new ArrayDeque<>();
    private final BroadcastProcessor<JsonObject> live = BroadcastProcessor.create();
    private final ListenerFailures failures;
    private final Consumer<BusMessage> subscriber = this::seen;

    @Inject
    public BusJsonRpcService(BusDispatcher dispatcher, Bus bus, PgBouncerConsole pgbouncer,
            ListenerFailures failures) {
        this.failures = failures;
        this.dispatcher = dispatcher;
        this.bus = bus;
        this.pgbouncer = pgbouncer;
    }

    /** From the start, so that the card shows the last messages when it is first opened. */
    void subscribe(@Observes StartupEvent started) {
        dispatcher.subscribe(subscriber);
    }

    @PreDestroy
    void unsubscribe() {
        dispatcher.unsubscribe(subscriber);
    }

    /** The listening connection and this instance's part in the bus. */
    public JsonObject getState() {
        JsonObject state = new JsonObject()
                .put("active", dispatcher.active())
                .put("listening", dispatcher.listening())
                .put("server", dispatcher.server())
                .put("backendPid", dispatcher.backendPid())
                .put("reconnections", dispatcher.reconnections())
                .put("sequencer", dispatcher.sequencing())
                .put("epoch", dispatcher.epoch())
                .put("head", dispatcher.head())
                .put("channels", new JsonArray(dispatcher.channels()))
                .put("losses", dispatcher.losses().count())
                .put("subscribers", dispatcher.subscribers());
        dispatcher.lastProbe().ifPresent(time -> state.put("lastProbe", time.toString()));
        dispatcher.probeSendFailure().ifPresent(reason -> state.put("probeFailure", reason));
        dispatcher.lastNotificationTime().ifPresent(time -> state.put("lastNotification", time.toString()));
        return state;
    }

    /** Each {@code @BusListener} method: channel, position, lag, calls that succeeded and failed. */
    public JsonArray getListeners() {
        JsonArray listeners = new JsonArray();
        for (BusDispatcher.ListenerState listener : dispatcher.listenerStates()) {
            listeners.add(new JsonObject()
                    .put("method", listener.listener())
                    .put("channel", listener.channel())
                    .put("position", listener.position())
                    .put("lag", listener.lag())
                    .put("delivered", listener.delivered())
                    .put("failed", failures.of(listener.listener())));
        }
        return listeners;
    }

    /** The last messages committed to the bus since the application started, newest first. */
    public JsonArray getRecentMessages() {
        synchronized (recent) {
            return new JsonArray(recent.stream().map(JsonObject::copy).map(Object.class::cast).toList());
        }
    }

    /** Every message committed to the bus from now on. */
    public Multi<JsonObject> streamMessages() {
        return live;
    }

    /** Sends a message, as {@code Bus.send} outside a transaction would. */
    @Blocking
    public JsonObject sendTestMessage(String channel, String payload) {
        try {
            bus.send(channel, payload == null ? "" : payload);
            return new JsonObject().put("sent", true).put("channel", channel);
        } catch (RuntimeException e) {
            return new JsonObject().put("sent", false).put("error", e.getMessage());
        }
    }

    /** PgBouncer's pools, when quarkus.imdispatcher.pgbouncer.* is set. */
    public JsonObject getPgBouncer() {
        JsonObject answer = new JsonObject().put("enabled", pgbouncer.enabled());
        pgbouncer.failure().ifPresent(reason -> answer.put("failure", reason));
        pgbouncer.last().ifPresent(statistics -> {
            JsonArray pools = new JsonArray();
            statistics.pools().forEach((pool, columns) -> pools.add(new JsonObject()
                    .put("database", pool.database()).put("user", pool.user())
                    .put("cl_active", columns.get("cl_active")).put("cl_waiting", columns.get("cl_waiting"))
                    .put("sv_active", columns.get("sv_active")).put("sv_idle", columns.get("sv_idle"))
                    .put("maxwait", PoolStatistics.maxWaitSeconds(columns))));
            answer.put("read", statistics.read().toString()).put("pools", pools);
        });
        return answer;
    }

    private void seen(BusMessage message) {
        JsonObject shown = new JsonObject().put("position", message.position()).put("channel", message.channel())
                .put("time", message.time().toString()).put("payload", message.payload());
        synchronized (recent) {
            recent.addFirst(shown);
            if (recent.size() > RECENT) {
                recent.removeLast();
            }
        }
        live.onNext(shown);
    }
}
