package io.quarkiverse.busaltconnection.runtime.store;

import java.time.Instant;

/** A row of the bus table that has its position. */
public record StoredMessage(long position, String channel, String payload, Instant createdAt) {
}
