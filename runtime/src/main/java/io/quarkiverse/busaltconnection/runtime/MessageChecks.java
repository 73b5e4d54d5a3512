package io.quarkiverse.busaltconnection.runtime;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What PostgreSQL accepts, checked before anything reaches the database so that a bad channel or payload gets an
 * error that says what to change instead of a driver message. Bus channels and payloads live in the bus table and
 * only have to be text; a listener's channel also receives plain NOTIFYs when it is a valid PostgreSQL channel name
 * (a longer one would be truncated by LISTEN and never match).
 */
public final class MessageChecks {

    /** PostgreSQL identifiers are at most NAMEDATALEN - 1 = 63 bytes; longer LISTEN channel names are truncated. */
    public static final int MAX_CHANNEL_BYTES = 63;

    private MessageChecks() {
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
     * @return why {@code channel} cannot be a bus channel, or empty if it can. Bus channels have no length or case
     *         limit: they are stored in the bus table, not used as PostgreSQL identifiers.
     */
    public static Optional<String> busChannelProblem(String channel) {
        if (channel == null || channel.isEmpty()) {
            return Optional.of("the channel name is empty; give it a name");
        }
        if (channel.indexOf('\0') >= 0) {
            return Optional.of("the channel name '" + printable(channel) + "' contains a NUL character, which"
                    + " PostgreSQL text cannot hold; remove it");
        }
        return Optional.empty();
    }

    /**
     * @return why {@code payload} cannot be sent on the bus, or empty if it can
     */
    public static Optional<String> busPayloadProblem(String payload) {
        if (payload == null) {
            return Optional.of("the payload is null; send an empty string for a message without payload");
        }
        if (payload.indexOf('\0') >= 0) {
            return Optional.of("the payload contains a NUL character, which PostgreSQL text cannot hold; remove it"
                    + " or encode the payload (e.g. Base64)");
        }
        return Optional.empty();
    }

    /**
     * @return why {@code key} cannot be a message key, or empty if it can (null is no key)
     */
    public static Optional<String> busKeyProblem(String key) {
        if (key != null && key.indexOf('\0') >= 0) {
            return Optional.of("the key contains a NUL character, which PostgreSQL text cannot hold; remove it");
        }
        return Optional.empty();
    }

    private static String printable(String channel) {
        String shown = channel.length() > 80 ? channel.substring(0, 80) + "..." : channel;
        return shown.replace("\0", "\\0");
    }

    /**
     * Checks a message before anything reaches the database.
     *
     * @throws IllegalArgumentException saying what to change, for a channel, payload or key that cannot be sent
     */
    public static void requireSendable(String channel, String key, String payload) {
        busChannelProblem(channel).ifPresent(problem -> {
            throw new IllegalArgumentException("Cannot send on the bus: " + problem);
        });
        busPayloadProblem(payload).ifPresent(problem -> {
            throw new IllegalArgumentException("Cannot send on channel '" + channel + "': " + problem);
        });
        busKeyProblem(key).ifPresent(problem -> {
            throw new IllegalArgumentException("Cannot send on channel '" + channel + "': " + problem);
        });
    }
}
