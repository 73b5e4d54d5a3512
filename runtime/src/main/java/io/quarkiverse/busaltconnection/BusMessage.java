package io.quarkiverse.busaltconnection;

import java.time.Instant;
import java.util.Objects;

/**
 * One notification as a {@link BusListener} method receives it.
 *
 * @param channel the PostgreSQL channel it arrived on
 * @param id the number this application instance's dispatcher gave it: strictly increasing in the order PostgreSQL
 *        delivered notifications to the instance (commit order), across all channels; starts at 1 for each instance
 * @param time when the dispatcher received it
 * @param payload the payload as PostgreSQL delivered it (empty string for a {@code NOTIFY} without payload)
 */
public record BusMessage(String channel, long id, Instant time, String payload) {

    public BusMessage {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(payload, "payload");
    }
}
