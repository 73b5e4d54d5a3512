package io.quarkiverse.busaltconnection.messaging;

import java.time.Instant;
import java.util.Objects;

/**
 * Where a message of a {@code bus-alt-connection} incoming channel comes from, as metadata of its
 * {@code Message}: {@code message.getMetadata(IncomingBusMetadata.class)}.
 *
 * @param channel the bus channel it was sent on
 * @param position its position on the bus: gap-free, in the order the senders' transactions became visible, the same
 *        on every instance
 * @param epoch the bus's epoch: positions compare only within one (a restored or failed-over database starts another)
 * @param key the key it was sent with, or null
 * @param time when its sender's transaction started writing it (PostgreSQL's {@code now()})
 * @param attempt which call of the message this is: 1, then more when a group retries it
 * @param traceparent the W3C trace context of the send when it was traced, else null
 */
public record IncomingBusMetadata(String channel, long position, long epoch, String key, Instant time, int attempt,
        String traceparent) {

    public IncomingBusMetadata {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(time, "time");
    }

    /**
     * The message's place as HTTP clients of the bus write it ({@code <epoch>-<position>}): what to hand a browser to
     * follow the channel from this message on.
     */
    public String cursor() {
        return epoch + "-" + position;
    }
}
