package io.quarkiverse.busaltconnection.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;

/** {@code clients} Server-Sent Events connections to one instance, each watching for a marker in the data. */
final class SseFanOut implements AutoCloseable {

    private final Vertx vertx = Vertx.vertx();
    private final HttpClient client;
    private final List<AtomicReference<String>> seen = new ArrayList<>();
    private volatile String marker = "\u0000";
    private volatile CountDownLatch reached = new CountDownLatch(0);

    SseFanOut(int port, int clients, String channel) throws InterruptedException {
        client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("localhost").setDefaultPort(port)
                .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(clients));
        // In steps, so the listen backlog is not overrun.
        for (int first = 0; first < clients; first += 250) {
            int step = Math.min(250, clients - first);
            CountDownLatch connected = new CountDownLatch(step);
            for (int i = 0; i < step; i++) {
                AtomicReference<String> last = new AtomicReference<>("");
                seen.add(last);
                client.request(HttpMethod.GET, "/imdispatcher/sse?channel=" + channel)
                        .compose(request -> request.send())
                        .onSuccess(response -> response.handler(buffer -> {
                            String text = buffer.toString();
                            if (text.startsWith(": connected")) {
                                connected.countDown();
                            } else if (text.contains(marker) && !marker.equals(last.getAndSet(marker))) {
                                reached.countDown();
                            }
                        }))
                        .onFailure(failure -> connected.countDown());
            }
            if (!connected.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("SSE clients did not connect");
            }
        }
    }

    /** Arms the clients for {@code next}: {@link #awaitAll} then waits until every one has seen it. */
    void expect(String next) {
        reached = new CountDownLatch(seen.size());
        marker = next;
    }

    boolean awaitAll(long timeoutMillis) throws InterruptedException {
        return reached.await(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        client.close();
        vertx.close();
    }
}
