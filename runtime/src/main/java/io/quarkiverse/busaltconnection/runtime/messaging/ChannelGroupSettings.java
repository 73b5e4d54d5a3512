package io.quarkiverse.busaltconnection.runtime.messaging;

import java.time.Duration;
import java.util.Optional;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;

/**
 * An incoming channel's group settings, from its connector attributes, in the shape groups of {@code @BusListener}
 * methods take theirs from {@code quarkus.imdispatcher.groups.*}: the engine delivers both alike.
 */
record ChannelGroupSettings(ImDispatcherConfig.GroupStart start, ImDispatcherConfig.GroupFailure failure,
        Optional<String> deadLetterChannel, int partitions, ImDispatcherConfig.GroupRetry retry,
        Duration stallTimeout, Duration stuckAfter) implements ImDispatcherConfig.ConsumerGroup {

    /** The retries of a failed call. */
    record Retry(int maxAttempts, Duration initialDelay, Duration maxDelay) implements ImDispatcherConfig.GroupRetry {
    }

    @Override
    public Duration expireAfter() {
        // Never asked: retention takes each group's expiry from quarkus.imdispatcher.groups."<group>".expire-after
        // (or its default), whoever delivers the group. This is that default.
        return Duration.ofDays(7);
    }
}
