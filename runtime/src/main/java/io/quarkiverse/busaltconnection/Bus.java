package io.quarkiverse.busaltconnection;

/**
 * Sends messages on the bus: rows of the bus table, written over the application's ordinary datasource (the pooled
 * path, through PgBouncer) in the caller's transaction.
 * <p>
 * Inside a transaction ({@code @Transactional}) the messages are written just before it commits and delivered after
 * it commits, never if it rolls back; a write that fails rolls the transaction back. A send made while the
 * transaction completes ({@code beforeCompletion}, a {@code BEFORE_COMPLETION} observer, an ORM callback at flush) is
 * written in it too; one made after it completed ({@code afterCompletion}, an {@code AFTER_SUCCESS} observer) is
 * written on its own, as outside a transaction, where messages are written and delivered at once. Every instance's
 * listeners receive each committed message once, in position order (causal order). The whole contract: the bus page
 * of the documentation, "Sending: the contract".
 * <p>
 * Channels are any non-empty text and payloads any text, of any size, without NUL characters; violations are an
 * {@link IllegalArgumentException} before anything reaches the database.
 */
public interface Bus {

    /**
     * Sends {@code payload} as it is (no JSON encoding) on {@code channel}.
     *
     * @throws IllegalArgumentException for a null or empty channel, a null payload, or a NUL character
     * @throws IllegalStateException if the current transaction is marked for rollback or committing, or on a Vert.x
     *         event loop ({@code BlockingOperationNotAllowedException}: the write blocks)
     * @throws BusException if the database refused the write
     */
    void send(String channel, String payload);

    /**
     * Sends {@code payload} encoded as JSON by the application's Jackson {@code ObjectMapper} on {@code channel}.
     *
     * @throws IllegalArgumentException for a null or empty channel, a null payload, a NUL character, or a payload that
     *         cannot be encoded as JSON
     * @throws IllegalStateException if the current transaction is marked for rollback or committing, or on a Vert.x
     *         event loop
     * @throws BusException if the database refused the write
     */
    void send(String channel, Object payload);

    /**
     * Sends {@code payload} as it is on {@code channel} with a {@code key}: a durable consumer group with partitions
     * delivers messages of one key in one partition, in order (see {@link BusListener#group()}). A null key is no key.
     *
     * @throws IllegalArgumentException as {@link #send(String, String)} does, or for a key with a NUL character
     * @throws IllegalStateException as {@link #send(String, String)} does
     * @throws BusException if the database refused the write
     */
    void send(String channel, String key, String payload);

    /**
     * Sends {@code payload} encoded as JSON on {@code channel} with a {@code key}: see {@link #send(String, String,
     * String)} and {@link #send(String, Object)}.
     */
    void send(String channel, String key, Object payload);
}
