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
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.runtime.dispatch.EngineStatus;
import io.quarkiverse.busaltconnection.runtime.dispatch.LiveFeed;
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

    private final EngineStatus status;
    private final LiveFeed feed;
    private final Bus bus;
    private final PgBouncerConsole pgbouncer;
    private final Deque<JsonObject> recent = new ArrayDeque<>();
    private final BroadcastProcessor<JsonObject> live = BroadcastProcessor.create();
    private final Consumer<BusMessage> subscriber = this::seen;

    @Inject
    public BusJsonRpcService(EngineStatus status, LiveFeed feed, Bus bus, PgBouncerConsole pgbouncer) {
        this.status = status;
        this.feed = feed;
        this.bus = bus;
        this.pgbouncer = pgbouncer;
    }

    /** From the start, so that the card shows the last messages when it is first opened. */
    void subscribe(@Observes StartupEvent started) {
        // The card shows what was sent; a change of the database's history does not undo it.
        feed.subscribe(subscriber, () -> {
        });
    }

    @PreDestroy
    void unsubscribe() {
        feed.unsubscribe(subscriber);
    }

    /** The listening connection and this instance's part in the bus. */
    public JsonObject getState() {
        JsonObject state = new JsonObject()
                .put("active", status.active())
                .put("listening", status.listening())
                .put("server", status.server())
                .put("backendPid", status.backendPid())
                .put("reconnections", status.reconnections())
                .put("sequencer", status.sequencing())
                .put("epoch", status.epoch())
                .put("head", status.head())
                .put("channels", new JsonArray(status.channels()))
                .put("losses", status.losses())
                .put("subscribers", status.httpClients());
        status.lastProbe().ifPresent(time -> state.put("lastProbe", time.toString()));
        status.probeFailure().ifPresent(reason -> state.put("probeFailure", reason));
        status.lastNotification().ifPresent(time -> state.put("lastNotification", time.toString()));
        return state;
    }

    /** Each {@code @BusListener} method: channel, position, lag, calls that succeeded and failed. */
    public JsonArray getListeners() {
        JsonArray listeners = new JsonArray();
        for (BusStatus.ListenerStatus listener : status.listeners()) {
            listeners.add(new JsonObject()
                    .put("method", listener.listener())
                    .put("channel", listener.channel())
                    .put("position", listener.position())
                    .put("lag", listener.lag())
                    .put("delivered", listener.delivered())
                    .put("failed", listener.failed()));
        }
        return listeners;
    }

    /** Each partition of each durable consumer group this application runs, and whether it delivers it. */
    public JsonArray getGroups() {
        JsonArray groups = new JsonArray();
        for (BusStatus.GroupStatus group : status.groups()) {
            groups.add(new JsonObject()
                    .put("group", group.group())
                    .put("channel", group.channel())
                    .put("partition", group.partition())
                    .put("method", group.listener())
                    .put("owner", group.owner())
                    .put("position", group.position())
                    .put("lag", group.lag())
                    .put("retries", group.retries())
                    .put("deadLetters", group.deadLetters())
                    .put("stopped", group.stopped().orElse(null))
                    .put("stuck", group.stuck())
                    .put("oldestUnfinished", group.oldestUnfinished().map(Object::toString).orElse(null)));
        }
        return groups;
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
