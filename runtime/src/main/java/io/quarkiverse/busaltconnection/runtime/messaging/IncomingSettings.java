package io.quarkiverse.busaltconnection.runtime.messaging;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

import org.eclipse.microprofile.config.Config;

import io.quarkiverse.busaltconnection.runtime.MessageChecks;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig.GroupFailure;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig.GroupStart;

/**
 * An incoming channel's attributes ({@code mp.messaging.incoming.<name>.*}), checked, in the engine's terms.
 *
 * @param name the Quarkus Messaging channel
 * @param busChannel the bus channel it reads: the {@code channel} attribute, by default the Quarkus Messaging name
 * @param failureStrategy as configured, for messages
 */
record IncomingSettings(String name, String busChannel, Optional<String> group, int pageSize, String failureStrategy,
        GroupFailure failure, ImDispatcherConfig.GroupRetry retry, String deadLetterChannel,
        Optional<ImDispatcherConfig.ConsumerGroup> groupSettings, long healthLagThreshold, boolean tracingEnabled) {

    /** The attribute naming the bus channel; not a generated getter: {@code getChannel()} is the channel's name. */
    static final String CHANNEL = "channel";

    /** How logs, the status and health name the channel. */
    String description() {
        return "Quarkus Messaging channel '" + name + "'";
    }

    /**
     * @throws IllegalArgumentException naming the attribute and what to set, for a value the connector cannot use
     */
    static IncomingSettings of(Config channelConfig) {
        BusConnectorIncomingConfiguration attributes = new BusConnectorIncomingConfiguration(channelConfig);
        String name = attributes.getChannel();
        String prefix = "mp.messaging.incoming." + name + ".";
        String busChannel = channelConfig.getOptionalValue(CHANNEL, String.class).orElse(name);
        MessageChecks.busChannelProblem(busChannel).ifPresent(problem -> {
            throw new IllegalArgumentException(prefix + CHANNEL + " is not a bus channel: " + problem);
        });
        Optional<String> group = attributes.getGroup().map(String::trim).filter(g -> !g.isEmpty());
        String strategy = attributes.getFailureStrategy().trim().toLowerCase(Locale.ROOT);
        int maxAttempts = attributes.getRetryMaxAttempts();
        GroupFailure failure = switch (strategy) {
            case "fail", "retry" -> GroupFailure.STOP;
            case "ignore" -> GroupFailure.SKIP;
            case "dead-letter" -> GroupFailure.DEAD_LETTER;
            default -> throw new IllegalArgumentException(prefix + "failure-strategy is '" + strategy
                    + "'; set fail, ignore, dead-letter or retry");
        };
        if (maxAttempts < 1) {
            throw new IllegalArgumentException(prefix + "retry-max-attempts is " + maxAttempts + "; set at least 1");
        }
        long initialDelay = attributes.getRetryInitialDelayMs();
        long maxDelay = attributes.getRetryMaxDelayMs();
        if (initialDelay < 1 || maxDelay < initialDelay) {
            throw new IllegalArgumentException(prefix + "retry-initial-delay-ms (" + initialDelay + ") must be at"
                    + " least 1 and retry-max-delay-ms (" + maxDelay + ") at least that");
        }
        ImDispatcherConfig.GroupRetry retry = new ChannelGroupSettings.Retry(
                "retry".equals(strategy) ? Integer.MAX_VALUE : maxAttempts, Duration.ofMillis(initialDelay),
                Duration.ofMillis(maxDelay));
        String deadLetterChannel = attributes.getDeadLetterChannel().orElse(busChannel + "-dlq");
        MessageChecks.busChannelProblem(deadLetterChannel).ifPresent(problem -> {
            throw new IllegalArgumentException(prefix + "dead-letter-channel is not a bus channel: " + problem);
        });
        int pageSize = attributes.getPageSize().orElse(0);
        if (attributes.getPageSize().isPresent() && pageSize < 1) {
            throw new IllegalArgumentException(prefix + "page-size is " + pageSize + "; set at least 1");
        }
        GroupStart start = switch (attributes.getStart().trim().toLowerCase(Locale.ROOT)) {
            case "latest" -> GroupStart.LATEST;
            case "earliest" -> GroupStart.EARLIEST;
            default -> throw new IllegalArgumentException(prefix + "start is '" + attributes.getStart()
                    + "'; set latest or earliest");
        };
        if (group.isEmpty() && start == GroupStart.EARLIEST) {
            throw new IllegalArgumentException(prefix + "start is earliest, which needs a stored position: set "
                    + prefix + "group (a broadcast channel starts where the instance starts)");
        }
        Optional<ImDispatcherConfig.ConsumerGroup> groupSettings = group.map(g -> new ChannelGroupSettings(start,
                failure, Optional.of(deadLetterChannel), attributes.getPartitions(), retry,
                Duration.ofMillis(attributes.getStallTimeoutMs()), Duration.ofMillis(attributes.getStuckAfterMs())));
        return new IncomingSettings(name, busChannel, group, pageSize, strategy, failure, retry, deadLetterChannel,
                groupSettings, attributes.getHealthLagThreshold(), attributes.getTracingEnabled());
    }
}
