package io.quarkiverse.busaltconnection.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;

/**
 * {@code clients} Server-Sent Events connections to one instance ({@code GET /imdispatcher/sse?channel=...}), each
 * watching its stream for a marker (the run id inside a message's payload). It relies only on the stream being text
 * that contains the payload; not on comments, event ids or field names.
 */
final class SseFanOut implements AutoCloseable {

    private final Vertx vertx = Vertx.vertx();
    private final HttpClient client;
    private final AtomicReferenceArray<String> lastSeen;
    private final AtomicInteger connected = new AtomicInteger();
    private volatile String marker = "\u0000";
    private volatile CountDownLatch reached = new CountDownLatch(0);

    SseFanOut(int port, int clients, String channel) throws InterruptedException {
        lastSeen = new AtomicReferenceArray<>(clients);
        client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("localhost").setDefaultPort(port)
                .setKeepAlive(true).setIdleTimeout(0), new PoolOptions().setHttp1MaxSize(clients));
        // In steps, so that the server's listen backlog is not overrun.
        for (int first = 0; first < clients; first += 250) {
            int step = Math.min(250, clients - first);
            CountDownLatch answered = new CountDownLatch(step);
            for (int i = first; i < first + step; i++) {
                int index = i;
                lastSeen.set(index, "");
                client.request(HttpMethod.GET, "/imdispatcher/sse?channel=" + channel)
                        .compose(request -> request.send())
                        .onSuccess(response -> {
                            if (response.statusCode() == 200) {
                                connected.incrementAndGet();
                            }
                            answered.countDown();
                            response.handler(buffer -> seen(index, buffer.toString()));
                        })
                        .onFailure(failure -> answered.countDown());
            }
            if (!answered.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("SSE clients got no answer within 60 s");
            }
        }
        if (connected.get() < clients) {
            throw new IllegalStateException("only " + connected.get() + " of " + clients + " SSE clients connected");
        }
    }

    private void seen(int index, String text) {
        String current = marker;
        if (text.contains(current) && !current.equals(lastSeen.getAndSet(index, current))) {
            reached.countDown();
        }
    }

    /** Arms the clients for {@code next}: {@link #awaitAll} then waits until every one has seen it. */
    void expect(String next) {
        reached = new CountDownLatch(lastSeen.length());
        marker = next;
    }

    boolean awaitAll(long timeoutMillis) throws InterruptedException {
        return reached.await(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    long missing() {
        return reached.getCount();
    }

    @Override
    public void close() {
        client.close();
        vertx.close();
    }
}
