package io.quarkiverse.busaltconnection.runtime.store;

import java.time.Instant;

import io.quarkiverse.busaltconnection.BusMessage;

/**
 * A row of the bus table that has its position.
 *
 * @param traceparent the W3C trace context the sender stored, or null
 * @param key the key the sender gave, or null
 */
public record StoredMessage(long position, String channel, String payload, Instant createdAt, String traceparent,
        String key) {

    /** As a listener or an HTTP client receives it. */
    public BusMessage message() {
        return new BusMessage(channel, position, createdAt, payload, traceparent, key);
    }
}
