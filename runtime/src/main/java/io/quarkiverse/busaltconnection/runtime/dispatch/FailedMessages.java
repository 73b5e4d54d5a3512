package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;

/**
 * What groups and the Quarkus Messaging connector's channels do alike with a message whose calls fail: wait before the
 * next call, and write the dead letter.
 */
public final class FailedMessages {

    private FailedMessages() {
    }

    /**
     * The wait before call {@code attempt + 1}: exponential, capped, with a random part of +/-50% so that members
     * retrying together spread out.
     */
    public static long retryDelayMillis(ImDispatcherConfig.GroupRetry retry, int attempt) {
        long initial = retry.initialDelay().toMillis();
        long max = retry.maxDelay().toMillis();
        long delay = Math.min(max, initial << Math.min(attempt - 1, 30));
        return Math.max(1, (long) (delay * (0.5 + ThreadLocalRandom.current().nextDouble())));
    }

    /**
     * The dead letter's JSON: where the message was, what it said, and why it was given up.
     *
     * @param group the group that gave it up, or null for a broadcast channel
     */
    public static String deadLetter(ObjectMapper json, String group, BusMessage message, Throwable failure,
            int attempts) {
        ObjectNode letter = json.createObjectNode();
        if (group != null) {
            letter.put("group", group);
        }
        return letter.put("channel", message.channel())
                .put("position", message.position())
                .put("time", message.time().toString())
                .put("payload", message.payload())
                .put("error", failure.getClass().getName())
                .put("message", String.valueOf(failure.getMessage()))
                .put("attempts", attempts)
                .toString();
    }

    /** A failure as logs show it: its class and message. */
    public static String describe(Throwable failure) {
        return failure.getClass().getSimpleName() + ": " + failure.getMessage();
    }
}
