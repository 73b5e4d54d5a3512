package io.quarkiverse.busaltconnection.runtime.listen;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

/**
 * {@code ssl-mode=prefer} for every direct connection (the listener's, the startup checks', the {@code @BusDirect}
 * client's), settled before Vert.x connects: Vert.x's own {@code prefer} tries TLS first and, when the server declines,
 * fails that attempt without closing its socket, so the server keeps a half-open connection (a backend, or a PgBouncer
 * client, that never receives its startup packet) until its authentication timeout, one per connection made.
 * <p>
 * Here the question is asked as libpq asks it, on a connection of its own: an SSLRequest, answered with one byte ('S'
 * or 'N'). After 'N' the connection is closed; after 'S' the TLS handshake is made (trusting any certificate: this
 * connection carries nothing, the real one checks what its mode asks) and the connection closed cleanly. Either way
 * the server sees a connection end before any startup packet, which PostgreSQL and PgBouncer end without a log line.
 * Then the connection is made with {@code require} or {@code disable}. The answer is remembered per address until a
 * connection made with it fails (the server may have been replaced or reconfigured), so the question is asked about
 * once per server.
 */
final class TlsOffer {

    /** The SSLRequest: its length, then PostgreSQL's code for it (1234 in the high half, 5679 in the low). */
    private static final int REQUEST_LENGTH = 8;
    private static final int SSL_REQUEST_CODE = 80877103;

    private static final Map<String, Boolean> ANSWERS = new ConcurrentHashMap<>();

    private TlsOffer() {
    }

    /** {@code prefer} becomes {@code require} or {@code disable}, as the server answers; other modes stay. */
    static Future<PgConnectOptions> settle(Vertx vertx, PgConnectOptions given) {
        if (given.getSslMode() != SslMode.PREFER || given.isUsingDomainSocket()) {
            return Future.succeededFuture(given);
        }
        Boolean known = ANSWERS.get(address(given));
        Future<Boolean> offered = known != null ? Future.succeededFuture(known)
                : ask(vertx, given).onSuccess(answer -> ANSWERS.put(address(given), answer));
        return offered.map(answer -> new PgConnectOptions(given).setSslMode(answer ? SslMode.REQUIRE : SslMode.DISABLE));
    }

    /** A connection made with {@code given}'s address failed: ask again next time. */
    static void forget(PgConnectOptions given) {
        ANSWERS.remove(address(given));
    }

    private static String address(PgConnectOptions options) {
        return options.getHost() + ":" + options.getPort();
    }

    private static Future<Boolean> ask(Vertx vertx, PgConnectOptions options) {
        NetClient client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(options.getConnectTimeout())
                .setTrustAll(true).setHostnameVerificationAlgorithm(""));
        String server = "the server at " + address(options);
        return client.connect(options.getPort(), options.getHost()).compose(socket -> {
            Promise<Boolean> answer = Promise.promise();
            long timer = vertx.setTimer(Math.max(1, options.getConnectTimeout()), id -> answer.tryFail(server
                    + " did not answer whether it takes TLS within the connect timeout"));
            socket.handler(bytes -> {
                if (bytes.getByte(0) != 'S') {
                    answer.tryComplete(false);
                } else {
                    // Closed before its handshake, the server would log "could not accept SSL connection".
                    socket.handler(null);
                    socket.upgradeToSsl().onComplete(ignored -> answer.tryComplete(true));
                }
            });
            socket.closeHandler(ignored -> answer.tryFail(server + " closed the connection instead of answering"
                    + " whether it takes TLS"));
            socket.exceptionHandler(answer::tryFail);
            socket.write(Buffer.buffer(REQUEST_LENGTH).appendInt(REQUEST_LENGTH).appendInt(SSL_REQUEST_CODE));
            return answer.future().onComplete(ignored -> {
                vertx.cancelTimer(timer);
                socket.close();
            });
        }).onComplete(ignored -> client.close());
    }
}
