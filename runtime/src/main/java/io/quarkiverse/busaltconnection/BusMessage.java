package io.quarkiverse.busaltconnection;

import java.time.Instant;
import java.util.Objects;

/**
 * One notification as a {@link BusListener} method receives it.
 *
 * @param channel the bus channel (or, for a plain NOTIFY, the PostgreSQL channel) it arrived on
 * @param id for a bus message, its id in the bus table: ids increase in commit order, across all channels and all
 *        instances, which makes them usable as a resume point; 0 for a plain NOTIFY sent by anything else
 * @param time for a bus message, when its transaction started writing it (PostgreSQL's {@code now()}); for a plain
 *        NOTIFY, when the dispatcher received it
 * @param payload the payload as sent (empty string for a {@code NOTIFY} without payload)
 */
public record BusMessage(String channel, long id, Instant time, String payload) {

    public BusMessage {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(payload, "payload");
    }
}
