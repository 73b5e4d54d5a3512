package io.quarkiverse.busaltconnection.runtime.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.observe.BusObserver;

/**
 * The bus's event meters in the application's Micrometer registry: messages sent and delivered, delivery latency,
 * listener duration, HTTP clients. A bean only when the application has Micrometer.
 */
@Singleton
public class BusMetrics implements BusObserver {

    static final String SENT = "imdispatcher.messages.sent";
    static final String DELIVERED = "imdispatcher.messages.delivered";
    static final String LATENCY = "imdispatcher.delivery.latency";
    static final String DURATION = "imdispatcher.listener.duration";
    static final String HTTP_CLIENTS = "imdispatcher.http.clients";
    static final String HTTP_BACKLOG_READS = "imdispatcher.http.backlog.reads";
    static final String HTTP_TURNED_AWAY = "imdispatcher.http.turned.away";

    private final MeterRegistry registry;
    private final ChannelTags channels;
    private final Map<String, AtomicInteger> httpClients = Map.of("long-poll", new AtomicInteger(), "sse",
            new AtomicInteger());
    private final Map<Tags, Counter> sent = new ConcurrentHashMap<>();
    private final Map<Tags, Counter> delivered = new ConcurrentHashMap<>();
    private final Map<Tags, Timer> latency = new ConcurrentHashMap<>();
    private final Map<String, Timer> duration = new ConcurrentHashMap<>();
    private final Map<String, Counter> backlogReads = new ConcurrentHashMap<>();
    private final Map<String, Counter> turnedAway = new ConcurrentHashMap<>();

    @Inject
    public BusMetrics(MeterRegistry registry, ImDispatcherConfig config) {
        this.registry = registry;
        this.channels = new ChannelTags(config.metrics().channelTag(), config.metrics().maxChannelTags());
        httpClients.forEach((kind, count) -> Gauge.builder(HTTP_CLIENTS, count, AtomicInteger::get)
                .description("HTTP clients waiting for bus messages (long-poll requests, Server-Sent Events streams)")
                .tag("kind", kind).register(registry));
    }

    @Override
    public void sent(String channel) {
        sent.computeIfAbsent(channels.of(channel), tags -> Counter.builder(SENT)
                .description("Messages committed to the bus").tags(tags).register(registry)).increment();
    }

    @Override
    public void delivered(String channel, String listener, boolean success, Duration sinceWritten, Duration took) {
        Tags channelTags = channels.of(channel);
        delivered.computeIfAbsent(channelTags.and("listener", listener, "outcome", success ? "success" : "failure"),
                tags -> Counter.builder(DELIVERED).description("Calls of @BusListener methods, by outcome").tags(tags)
                        .register(registry))
                .increment();
        latency.computeIfAbsent(channelTags, tags -> Timer.builder(LATENCY)
                .description("From a message's write to the start of a listener's call").tags(tags)
                .register(registry)).record(sinceWritten.isNegative() ? Duration.ZERO : sinceWritten);
        duration.computeIfAbsent(listener, name -> Timer.builder(DURATION)
                .description("How long a @BusListener call takes, its Uni or CompletionStage included")
                .tag("listener", name).register(registry)).record(took);
    }

    @Override
    public void httpClientJoined(String kind) {
        httpClients.get(kind).incrementAndGet();
    }

    @Override
    public void httpClientLeft(String kind) {
        httpClients.get(kind).decrementAndGet();
    }

    @Override
    public void httpBacklogRead(String kind) {
        backlogReads.computeIfAbsent(kind, k -> Counter.builder(HTTP_BACKLOG_READS)
                .description("Pages of the bus table read for HTTP clients behind the head, through the"
                        + " application's datasource")
                .tag("kind", k).register(registry)).increment();
    }

    @Override
    public void httpTurnedAway(String kind) {
        turnedAway.computeIfAbsent(kind, k -> Counter.builder(HTTP_TURNED_AWAY)
                .description("HTTP clients asked to come back later (max-clients or max-backlog-reads reached)")
                .tag("kind", k).register(registry)).increment();
    }
}
