package io.quarkiverse.busaltconnection.messaging;

/**
 * What a message sent on a {@code bus-alt-connection} outgoing channel carries besides its payload, as metadata:
 * {@code Message.of(order).addMetadata(OutgoingBusMetadata.key(order.customer()))}.
 *
 * @param key the message's key (see {@link io.quarkiverse.busaltconnection.Bus#send(String, String, String)}): a group
 *        with partitions delivers the messages of one key in one partition, in order; null for none
 */
public record OutgoingBusMetadata(String key) {

    /** Metadata giving the message {@code key}. */
    public static OutgoingBusMetadata key(String key) {
        return new OutgoingBusMetadata(key);
    }
}
