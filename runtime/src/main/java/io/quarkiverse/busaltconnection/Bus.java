package io.quarkiverse.busaltconnection;

/**
 * Sends notifications over the application's ordinary datasource (the pooled path, through PgBouncer).
 * <p>
 * A send is a statement on the caller's connection: inside a transaction ({@code @Transactional}) the message is
 * delivered when the transaction commits and never if it rolls back; outside one it is delivered at once.
 * PostgreSQL delivers in commit order and folds identical channel + payload pairs sent in one transaction into one
 * notification.
 * <p>
 * Limits, checked before anything reaches the database ({@link IllegalArgumentException} naming the limit):
 * the channel is 1 to 63 bytes in UTF-8 without NUL characters; the payload is shorter than 8000 bytes in UTF-8 and
 * has no NUL characters.
 */
public interface Bus {

    /**
     * Sends {@code payload} as it is (no JSON encoding) on {@code channel}.
     *
     * @throws IllegalArgumentException if the channel or payload break PostgreSQL's NOTIFY limits
     * @throws BusException if the database refused the notification
     */
    void send(String channel, String payload);

    /**
     * Sends {@code payload} encoded as JSON by the application's Jackson {@code ObjectMapper} on {@code channel}.
     *
     * @throws IllegalArgumentException if the channel or the encoded payload break PostgreSQL's NOTIFY limits, or
     *         the payload cannot be encoded as JSON
     * @throws BusException if the database refused the notification
     */
    void send(String channel, Object payload);
}
