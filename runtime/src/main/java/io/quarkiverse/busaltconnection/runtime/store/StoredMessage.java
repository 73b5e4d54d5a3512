package io.quarkiverse.busaltconnection.runtime.store;

import java.time.Instant;

/** A row of the bus table. */
public record StoredMessage(long id, String channel, String payload, Instant createdAt) {
}
