package io.quarkiverse.busaltconnection;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;

/**
 * Sends messages on the bus from reactive code: a row of the bus table written through the caller's Vert.x SQL
 * client, in its transaction when it has one. For the application's reactive pool through PgBouncer, or a connection
 * of it in a transaction ({@code pool.withTransaction(connection -> ...)}): the message is delivered after that
 * transaction commits, never if it rolls back, and the sequencer is woken once it completed. Given a pool (or a
 * connection without a transaction), the write is a transaction of its own.
 * <p>
 * The same checks as {@link Bus}: a bad channel, payload or key fails the {@code Uni} with an
 * {@link IllegalArgumentException} before anything reaches the database; a write the database refuses fails it with
 * the client's error (and, in a transaction, that transaction fails as any failed statement makes it).
 */
public interface ReactiveBus {

    /** Sends {@code payload} as it is (no JSON encoding) on {@code channel}, through {@code client}. */
    Uni<Void> send(SqlClient client, String channel, String payload);

    /** Sends {@code payload} encoded as JSON by the application's Jackson {@code ObjectMapper}. */
    Uni<Void> send(SqlClient client, String channel, Object payload);

    /** Sends {@code payload} as it is with a {@code key} (see {@link Bus#send(String, String, String)}). */
    Uni<Void> send(SqlClient client, String channel, String key, String payload);

    /** Sends {@code payload} encoded as JSON with a {@code key}. */
    Uni<Void> send(SqlClient client, String channel, String key, Object payload);
}
