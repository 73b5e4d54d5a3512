package io.quarkiverse.busaltconnection.runtime.metrics;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.BusStatus.GroupStatus;
import io.quarkiverse.busaltconnection.runtime.dispatch.EngineStatus;
import io.quarkus.runtime.StartupEvent;

/**
 * The bus engine's state as gauges and counters, read when the registry is scraped: each listener's lag, each
 * durable group's lag, ownership, retries and dead letters, the listening connection, its reconnections, losses to
 * retention, PostgreSQL's notification queue. Registered once the
 * application started (the engine is made then). A bean only when the application has Micrometer.
 */
@Singleton
public class EngineMeters {

    void register(@Observes StartupEvent started, EngineStatus status, MeterRegistry registry) {
        for (BusStatus.ListenerStatus listener : status.listeners()) {
            String name = listener.listener();
            Gauge.builder("imdispatcher.listener.lag", status, d -> lag(d, name))
                    .description("Bus positions between the head and the last one the listener handled (0: caught up)")
                    .tag("listener", name).register(registry);
        }
        for (BusStatus.GroupStatus group : status.groups()) {
            Tags tags = Tags.of("group", group.group(), "channel", group.channel(), "partition",
                    String.valueOf(group.partition()));
            Gauge.builder("imdispatcher.group.lag", status, d -> group(d, group).filter(GroupStatus::owner)
                    .map(g -> (double) g.lag()).orElse(Double.NaN))
                    .description("Bus positions between the head and the group's position, on the instance that"
                            + " delivers the partition; NaN on the others")
                    .tags(tags).register(registry);
            Gauge.builder("imdispatcher.group.owner", status, d -> group(d, group).filter(GroupStatus::owner).isPresent()
                    ? 1
                    : 0)
                    .description("1 on the instance that delivers the group's partition, else 0").tags(tags).register(registry);
            Gauge.builder("imdispatcher.group.oldest.unfinished.age", status, d -> group(d, group)
                    .filter(GroupStatus::owner).map(g -> g.oldestUnfinished().map(since -> Math.max(0,
                            Duration.between(since, Instant.now()).toMillis() / 1000.0)).orElse(0.0))
                    .orElse(Double.NaN))
                    .description("Seconds since the oldest message the partition has not finished was committed (0 when"
                            + " it has finished all it read), on the instance that delivers it; NaN on the others")
                    .baseUnit("seconds").tags(tags).register(registry);
            FunctionCounter.builder("imdispatcher.group.retries", status, d -> group(d, group).map(
                    GroupStatus::retries).orElse(0L))
                    .description("Calls of the group retried on this instance").tags(tags).register(registry);
            FunctionCounter.builder("imdispatcher.group.dead.letters", status, d -> group(d, group).map(
                    GroupStatus::deadLetters).orElse(0L))
                    .description("Messages the group gave up to its dead-letter channel on this instance").tags(tags)
                    .register(registry);
        }
        Gauge.builder("imdispatcher.listener.connected", status, d -> d.listening() ? 1 : 0)
                .description("1 while the listening connection is up and LISTENs, else 0").register(registry);
        FunctionCounter.builder("imdispatcher.listener.reconnections", status, EngineStatus::reconnections)
                .description("Times the listening connection came back after it was lost").register(registry);
        FunctionCounter.builder("imdispatcher.messages.lost", status, d -> d.lossLog().positions())
                .description("Bus positions a reader found deleted by retention before it read them (at most that"
                        + " many messages of its channels were lost)")
                .register(registry);
        Gauge.builder("imdispatcher.sequencer.listening.instances", status, EngineStatus::listeningInstances)
                .description("While this instance sequences: the bus's listening instances it counted (sessions with"
                        + " the instances' application_name), each of which PostgreSQL signals at every head hint; else 0")
                .register(registry);
        Gauge.builder("imdispatcher.sequencer.run.spacing", status, EngineStatus::runSpacingSeconds)
                .description("While this instance sequences: how long it waits after a run that numbered messages"
                        + " before the next, 1 ms per listening instance when that is more than 2 ms (at most 200 ms),"
                        + " or while messages come fast, the time about 16 take to come (at most"
                        + " quarkus.imdispatcher.bus.sequencer-linger); else 0")
                .baseUnit("seconds").register(registry);
        status.watchNotificationQueue();
        Gauge.builder("imdispatcher.notification.queue.usage", status, EngineStatus::notificationQueueUsage)
                .description("pg_notification_queue_usage(): the fraction of PostgreSQL's notification queue in use")
                .register(registry);
    }

    /** The group's state now, found again at each reading (it is a value, made anew each time). */
    private static Optional<GroupStatus> group(EngineStatus status, GroupStatus group) {
        return status.groups().stream().filter(g -> g.group().equals(group.group()) && g.channel().equals(
                group.channel()) && g.partition() == group.partition()).findFirst();
    }

    private static double lag(EngineStatus status, String listener) {
        return status.listeners().stream().filter(state -> state.listener().equals(listener))
                .mapToDouble(BusStatus.ListenerStatus::lag).findFirst().orElse(Double.NaN);
    }
}
