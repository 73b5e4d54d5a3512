package io.quarkiverse.busaltconnection.runtime;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * PostgreSQL's limits on NOTIFY, checked before anything reaches the database so that a bad channel or payload
 * gets an error that says what to change instead of a driver message (or, worse, a silently truncated channel
 * name that no listener hears). Used at build time for {@code @BusListener} channels and at run time by the bus.
 */
public final class NotifyLimits {

    /** PostgreSQL identifiers are at most NAMEDATALEN - 1 = 63 bytes; longer LISTEN channel names are truncated. */
    public static final int MAX_CHANNEL_BYTES = 63;

    /** "The payload must be shorter than 8000 bytes" (NOTIFY documentation, default build). */
    public static final int MAX_PAYLOAD_BYTES = 7999;

    private NotifyLimits() {
    }

    /**
     * @return why {@code channel} cannot be a PostgreSQL channel name, or empty if it can
     */
    public static Optional<String> channelProblem(String channel) {
        if (channel == null || channel.isEmpty()) {
            return Optional.of("the channel name is empty; give a name of 1 to " + MAX_CHANNEL_BYTES + " bytes");
        }
        if (channel.indexOf('\0') >= 0) {
            return Optional.of("the channel name '" + printable(channel) + "' contains a NUL character, which PostgreSQL"
                    + " identifiers cannot hold; remove it");
        }
        int bytes = channel.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_CHANNEL_BYTES) {
            return Optional.of("the channel name '" + printable(channel) + "' is " + bytes + " bytes long in UTF-8;"
                    + " PostgreSQL channel names are at most " + MAX_CHANNEL_BYTES + " bytes (a longer name would be"
                    + " truncated and never match); use a shorter name");
        }
        return Optional.empty();
    }

    /**
     * @return why {@code payload} cannot ride in a NOTIFY, or empty if it can
     */
    public static Optional<String> payloadProblem(String payload) {
        if (payload == null) {
            return Optional.of("the payload is null; send an empty string for a notification without payload");
        }
        if (payload.indexOf('\0') >= 0) {
            return Optional.of("the payload contains a NUL character, which PostgreSQL text cannot hold; remove it"
                    + " or encode the payload (e.g. Base64)");
        }
        // Quick bound first: a UTF-8 character takes at most 3 bytes per UTF-16 unit.
        if (payload.length() * 3 > MAX_PAYLOAD_BYTES) {
            int bytes = payload.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_PAYLOAD_BYTES) {
                return Optional.of("the payload is " + bytes + " bytes long in UTF-8; PostgreSQL NOTIFY payloads must"
                        + " be shorter than " + (MAX_PAYLOAD_BYTES + 1) + " bytes; send a key and read the data"
                        + " from a table instead");
            }
        }
        return Optional.empty();
    }

    private static String printable(String channel) {
        String shown = channel.length() > 80 ? channel.substring(0, 80) + "..." : channel;
        return shown.replace("\0", "\\0");
    }
}
