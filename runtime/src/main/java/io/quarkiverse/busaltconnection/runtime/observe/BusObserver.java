package io.quarkiverse.busaltconnection.runtime.observe;

import java.time.Duration;

import io.quarkiverse.busaltconnection.BusMessage;

/**
 * What the bus tells the integrations that watch it (Micrometer meters, OpenTelemetry traces, the Dev UI). Implementations are
 * beans, present only
 * when the application has the capability; each method is called on the thread where the event happens and must not
 * block.
 */
public interface BusObserver {

    /**
     * A message is being sent, in the sender's thread: the W3C trace context to store with it, or null.
     */
    default String sending(String channel) {
        return null;
    }

    /** A {@code @BusListener} call is about to start, on the thread that makes it. */
    default ListenerCall calling(BusMessage message, String listener) {
        return ListenerCall.NONE;
    }

    /** A message was committed to the bus (or written outside a transaction). */
    default void sent(String channel) {
    }

    /**
     * A {@code @BusListener} call is over.
     *
     * @param sinceWritten from the message's write (its row's time) to the start of the call
     * @param took the call, including the {@code Uni} or {@code CompletionStage} it returned
     */
    default void delivered(String channel, String listener, boolean success, Duration sinceWritten, Duration took) {
    }

    /** An HTTP client subscribed ({@code kind}: long-poll or sse). */
    default void httpClientJoined(String kind) {
    }

    /** An HTTP client's subscription ended. */
    default void httpClientLeft(String kind) {
    }

    /** A page of the bus table was read for an HTTP client behind the head ({@code kind}: long-poll or sse). */
    default void httpBacklogRead(String kind) {
    }

    /** An HTTP client was asked to come back later: beyond {@code max-clients} or {@code max-backlog-reads}. */
    default void httpTurnedAway(String kind) {
    }
}
