package io.quarkiverse.busaltconnection.runtime.send;

/**
 * One message to write, checked and encoded.
 *
 * @param traceparent the W3C trace context of the send, or null
 */
public record Outgoing(String channel, String key, String payload, String traceparent) {
}
