package io.quarkiverse.busaltconnection.runtime.messaging;

import static io.smallrye.reactive.messaging.annotations.ConnectorAttribute.Direction.INCOMING;
import static io.smallrye.reactive.messaging.annotations.ConnectorAttribute.Direction.INCOMING_AND_OUTGOING;
import static io.smallrye.reactive.messaging.annotations.ConnectorAttribute.Direction.OUTGOING;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.transaction.TransactionSynchronizationRegistry;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.spi.Connector;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.runtime.MessageChecks;
import io.quarkiverse.busaltconnection.runtime.send.PooledBus;
import io.smallrye.reactive.messaging.annotations.ConnectorAttribute;
import io.smallrye.reactive.messaging.connector.InboundConnector;
import io.smallrye.reactive.messaging.connector.OutboundConnector;
import io.smallrye.reactive.messaging.health.HealthReport;
import io.smallrye.reactive.messaging.health.HealthReporter;
import io.vertx.core.Vertx;

/**
 * The Quarkus Messaging connector {@code bus-alt-connection}: incoming channels read a bus channel (on every instance,
 * or as a durable group), outgoing channels send on one, in the sender's transaction when there is one. Besides the
 * attributes below, {@code channel} names the bus channel (by default the Quarkus Messaging channel's name): it is
 * read by hand, because the generated configuration's {@code getChannel()} is the channel's name.
 */
@ApplicationScoped
@Connector(BusConnector.NAME)
@ConnectorAttribute(name = "group", type = "string", direction = INCOMING, description = "The durable consumer group. Unset: every instance receives every message committed after it started, in order (a broadcast channel). Set: the group's position is stored in the database, one instance at a time delivers each partition, and a message is acknowledged once for the group")
@ConnectorAttribute(name = "partitions", type = "int", direction = INCOMING, description = "The group's partitions: messages sent with a key go to one partition by key, and the instances running the group share the partitions, in order within each", defaultValue = "1")
@ConnectorAttribute(name = "start", type = "string", direction = INCOMING, description = "Where a group without a stored position starts: `latest` (messages committed from then on) or `earliest` (the oldest message retention kept)", defaultValue = "latest")
@ConnectorAttribute(name = "page-size", type = "int", direction = INCOMING, description = "Messages read from the bus table at a time for this channel; by default `quarkus.imdispatcher.bus.listener-page-size`")
@ConnectorAttribute(name = "failure-strategy", type = "string", direction = INCOMING, description = "What a message that is not acknowledged (nack, or the method threw) after `retry-max-attempts` calls does: `fail` stops the channel on it (readiness DOWN); `ignore` logs it and goes on; `dead-letter` sends it, with the failure, to `dead-letter-channel` and goes on; `retry` calls it again without end, with growing delays, later messages waiting", defaultValue = "fail")
@ConnectorAttribute(name = "retry-max-attempts", type = "int", direction = INCOMING, description = "Calls of a message before the failure strategy applies, the first included (ignored by `failure-strategy=retry`, which has no end)", defaultValue = "1")
@ConnectorAttribute(name = "retry-initial-delay-ms", type = "long", direction = INCOMING, description = "The wait before the first retry, in milliseconds; each further wait doubles, with a random part of +/-50%", defaultValue = "1000")
@ConnectorAttribute(name = "retry-max-delay-ms", type = "long", direction = INCOMING, description = "The longest wait between two calls, in milliseconds", defaultValue = "60000")
@ConnectorAttribute(name = "dead-letter-channel", type = "string", direction = INCOMING, description = "The bus channel of `failure-strategy=dead-letter`; by default the bus channel followed by `-dlq`")
@ConnectorAttribute(name = "stall-timeout-ms", type = "long", direction = INCOMING, description = "A group member whose listening connection runs nothing for this long while it owns partitions is taken over (its JVM is frozen)", defaultValue = "10000")
@ConnectorAttribute(name = "stuck-after-ms", type = "long", direction = INCOMING, description = "Readiness is DOWN while a partition this instance delivers has work waiting and its position has not moved for this long", defaultValue = "300000")
@ConnectorAttribute(name = "health-lag-threshold", type = "long", direction = INCOMING, description = "Readiness is DOWN while the channel is more than this many bus positions behind the head on this instance; 0: never for lag", defaultValue = "0")
@ConnectorAttribute(name = "tracing-enabled", type = "boolean", direction = INCOMING_AND_OUTGOING, description = "When the application has OpenTelemetry: whether each call of an incoming channel's method runs under a consumer span linked to the send; whether a message sent on an outgoing channel from a traced request gets a producer span in that request's trace, stored with the message", defaultValue = "true")
@ConnectorAttribute(name = "max-inflight-messages", type = "int", direction = OUTGOING, description = "Messages sent outside a transaction that may wait to be written; beyond, a sender that may block waits for room (up to 60 s), and a message sent from an event loop is not acknowledged (nack) with an error that says so. Messages sent in a transaction are written in it and do not count", defaultValue = "1024")
public class BusConnector implements InboundConnector, OutboundConnector, HealthReporter {

    public static final String NAME = "bus-alt-connection";

    @Inject
    IncomingChannels incoming;
    @Inject
    PooledBus bus;
    @Inject
    TransactionSynchronizationRegistry transactions;
    @Inject
    Vertx vertx;
    @Inject
    Instance<BusStatus> status;

    private final Map<String, OutgoingChannel> outgoing = new ConcurrentHashMap<>();

    @Override
    public Flow.Publisher<? extends Message<?>> getPublisher(Config config) {
        return incoming.get(new BusConnectorIncomingConfiguration(config).getChannel()).publisher();
    }

    @Override
    public Flow.Subscriber<? extends Message<?>> getSubscriber(Config config) {
        BusConnectorOutgoingConfiguration attributes = new BusConnectorOutgoingConfiguration(config);
        String name = attributes.getChannel();
        String busChannel = config.getOptionalValue(IncomingSettings.CHANNEL, String.class).orElse(name);
        MessageChecks.busChannelProblem(busChannel).ifPresent(problem -> {
            throw new IllegalArgumentException("mp.messaging.outgoing." + name + "." + IncomingSettings.CHANNEL
                    + " is not a bus channel: " + problem);
        });
        int maxInflight = attributes.getMaxInflightMessages();
        if (maxInflight < 1) {
            throw new IllegalArgumentException("mp.messaging.outgoing." + name + ".max-inflight-messages is "
                    + maxInflight + "; set at least 1");
        }
        OutgoingChannel channel = new OutgoingChannel(name, busChannel, maxInflight, attributes.getTracingEnabled(),
                bus, transactions, vertx);
        outgoing.put(name, channel);
        return channel;
    }

    /**
     * @throws IllegalStateException if Quarkus Messaging has not asked for the channel's subscriber
     */
    OutgoingChannel outgoing(String name) {
        OutgoingChannel channel = outgoing.get(name);
        if (channel == null) {
            throw new IllegalStateException("The outgoing channel '" + name + "' of the " + NAME + " connector is not"
                    + " wired yet");
        }
        return channel;
    }

    /**
     * DOWN for an incoming channel stopped by {@code failure-strategy=fail}, a group partition of it that stopped or
     * is stuck, or one further behind than {@code health-lag-threshold}; for an outgoing channel whose upstream
     * failed.
     */
    @Override
    public HealthReport getReadiness() {
        HealthReport.HealthReportBuilder report = HealthReport.builder();
        BusStatus bus = status.get();
        for (IncomingChannel channel : incoming.all()) {
            IncomingSettings settings = channel.settings();
            String problem = channel.stopped().orElse(null);
            for (BusStatus.GroupStatus group : bus.groups()) {
                if (problem == null && group.listener().equals(settings.description())) {
                    problem = group.stopped().map(why -> "partition " + group.partition() + " " + why)
                            .orElse(group.stuck() ? "partition " + group.partition() + " is stuck" : null);
                    if (problem == null && settings.healthLagThreshold() > 0
                            && group.lag() > settings.healthLagThreshold()) {
                        problem = "partition " + group.partition() + " is " + group.lag() + " positions behind";
                    }
                }
            }
            for (BusStatus.ListenerStatus listener : bus.listeners()) {
                if (problem == null && listener.listener().equals(settings.description())
                        && settings.healthLagThreshold() > 0 && listener.lag() > settings.healthLagThreshold()) {
                    problem = listener.lag() + " positions behind";
                }
            }
            report.add(settings.name(), problem == null, problem);
        }
        for (OutgoingChannel channel : outgoing.values()) {
            Throwable failure = channel.upstreamFailure();
            report.add(channel.name(), failure == null, failure == null ? null : failure.toString());
        }
        return report.build();
    }
}
