package io.quarkiverse.busaltconnection.runtime.listen;

import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.spi.PgDriver;
import io.vertx.sqlclient.spi.ConnectionFactory;

/**
 * Opens single, unpooled connections with one Vert.x connection factory for its owner's lifetime, and closes that
 * factory with it. {@code PgConnection.connect} makes a factory per call and closes it only with a connection that
 * succeeded: each failed attempt (PostgreSQL or PgBouncer down, a refused password) would leave its client behind
 * for the garbage collector, which closes it on a Vert.x that may already have stopped, logging an ERROR.
 * {@code ssl-mode=prefer} (the default) is settled by {@link TlsOffer} before Vert.x connects.
 */
public final class DirectConnector implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(DirectConnector.class);

    private final Vertx vertx;
    private final String owner;
    private final Supplier<Future<PgConnectOptions>> options;
    private final ConnectionFactory factory;

    /**
     * @param owner names the connections in Vert.x's client meters ({@link #metricsName}), apart from the
     *        application's own clients
     * @param options asked again for every connection, so that rotated credentials are used
     */
    public DirectConnector(Vertx vertx, String owner, Supplier<Future<PgConnectOptions>> options) {
        this.vertx = vertx;
        this.owner = owner;
        this.options = () -> options.get().map(given -> new PgConnectOptions(given).setMetricsName(metricsName(owner)));
        this.factory = PgDriver.INSTANCE.createConnectionFactory(vertx, this.options);
    }

    /**
     * The name under which Quarkus's Micrometer binder registers a connection's client meters ({@code prefix|client}):
     * without one, every connection of every owner, and the application's own unnamed clients, would register the
     * same gauges, and Micrometer warns about the duplicates.
     */
    public static String metricsName(String owner) {
        return "imdispatcher|" + owner;
    }

    /**
     * A connection for the caller alone; closing it leaves the factory open for the next one. Its errors outside a
     * query (the server ended the session, the socket was reset) are logged at DEBUG: the owner learns of the loss
     * from the connection's close handler and says so itself, and Vert.x would otherwise print each one's stack trace
     * to standard error.
     */
    public Future<PgConnection> connect() {
        return connect(vertx.getOrCreateContext());
    }

    /** {@link #connect()}, with the connection's callbacks on {@code context}. */
    public Future<PgConnection> connect(Context context) {
        return options.get().compose(given -> TlsOffer.settle(vertx, given).compose(settled -> factory.connect(context,
                settled).onFailure(failure -> TlsOffer.forget(given))))
                .map(connection -> {
                    PgConnection connected = PgConnection.cast(connection);
                    connected.exceptionHandler(error -> LOG.debugf("The %s connection failed: %s", owner,
                            error.toString()));
                    return connected;
                });
    }

    /**
     * The options of a connection with {@code ssl-mode=prefer} settled (see {@link TlsOffer}): for the direct path's
     * pool, which asks for options for each connection it makes.
     */
    public static Future<PgConnectOptions> settledTls(Vertx vertx, PgConnectOptions given) {
        return TlsOffer.settle(vertx, given);
    }

    /** Closes the factory, and with it every connection it opened that is still open. */
    @Override
    public void close() {
        factory.close(Promise.promise());
    }
}
