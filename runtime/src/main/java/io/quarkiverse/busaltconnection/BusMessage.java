package io.quarkiverse.busaltconnection;

import java.time.Instant;
import java.util.Objects;

/**
 * One message as a {@link BusListener} method receives it.
 *
 * @param channel the bus channel (or, for a plain NOTIFY, the PostgreSQL channel) it arrived on
 * @param position for a bus message, its position on the bus: positions increase without gaps, across all channels and
 *        all instances, in the order the messages' transactions became visible, and are the same on every instance;
 *        0 for a plain NOTIFY sent by anything else
 * @param time for a bus message, when its transaction started writing it (PostgreSQL's {@code now()}); for a plain
 *        NOTIFY, when this instance received it
 * @param payload the payload as sent (empty string for a {@code NOTIFY} without payload)
 * @param traceparent the W3C trace context of the send, when it happened in a traced request of an application with
 *        OpenTelemetry; else null
 * @param key the key it was sent with ({@link Bus#send(String, String, String)}), or null
 */
public record BusMessage(String channel, long position, Instant time, String payload, String traceparent, String key) {

    public BusMessage {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(payload, "payload");
    }

    /** A message sent without a key. */
    public BusMessage(String channel, long position, Instant time, String payload, String traceparent) {
        this(channel, position, time, payload, traceparent, null);
    }

    /** A message whose send was not traced, without a key. */
    public BusMessage(String channel, long position, Instant time, String payload) {
        this(channel, position, time, payload, null, null);
    }

    /** Whether this is a plain NOTIFY sent by something other than {@link Bus#send}: unauthenticated input. */
    public boolean plainNotification() {
        return position == 0;
    }
}
