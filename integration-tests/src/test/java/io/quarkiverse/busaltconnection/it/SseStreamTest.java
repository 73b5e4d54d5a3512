package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusDispatcher;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The life of a Server-Sent Events stream: keep-alive comments while idle, its subscription gone when the client
 * leaves, and a client that stops reading is let go (its stream ended, to resume from its cursor) instead of growing
 * the server's buffers.
 */
@QuarkusTest
class SseStreamTest {

    @Inject
    Bus bus;

    @Inject
    BusDispatcher dispatcher;

    @TestHTTPResource("/imdispatcher/sse")
    URI sse;

    @Test
    void anIdleStreamGetsKeepAliveComments() throws Exception {
        String channel = DeliveryTest.unique("public.idle");
        HttpResponse<Stream<String>> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(sse + "?channel=" + channel)).GET().build(), HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> lines = response.body()) {
            Iterator<String> read = lines.iterator();
            long started = System.nanoTime();
            int keepAlives = 0;
            // The demo sends them every second.
            while (keepAlives < 2 && System.nanoTime() - started < Duration.ofSeconds(10).toNanos()) {
                if (read.next().equals(": keep-alive")) {
                    keepAlives++;
                }
            }
            assertTrue(keepAlives >= 2, "keep-alive comments in 10 s: " + keepAlives);
        }
    }

    @Test
    void aClientThatLeavesIsUnsubscribed() throws Exception {
        String channel = DeliveryTest.unique("public.leaving");
        int before = Subscribers.none(dispatcher);
        HttpResponse<Stream<String>> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(sse + "?channel=" + channel)).GET().build(), HttpResponse.BodyHandlers.ofLines());
        await().atMost(Duration.ofSeconds(10)).until(() -> dispatcher.subscribers() == before + 1);
        response.body().close();
        await().atMost(Duration.ofSeconds(10)).until(() -> dispatcher.subscribers() == before);
    }

    @Test
    void aClientThatStopsReadingIsLetGo() throws Exception {
        String channel = DeliveryTest.unique("public.stalled");
        int before = Subscribers.none(dispatcher);
        try (Socket client = new Socket(sse.getHost(), sse.getPort())) {
            // A small receive window, never read: the server's writes back up.
            client.setReceiveBufferSize(4096);
            OutputStream out = client.getOutputStream();
            out.write(("GET " + sse.getPath() + "?channel=" + channel + " HTTP/1.1\r\nHost: " + sse.getHost()
                    + "\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> dispatcher.subscribers() == before + 1);
            String payload = "x".repeat(64 * 1024);
            for (int batch = 0; batch < 10 && dispatcher.subscribers() > before; batch++) {
                // 4 MiB a batch, far beyond what the sockets can buffer.
                QuarkusTransaction.requiringNew().run(() -> IntStream.range(0, 64)
                        .forEach(i -> bus.send(channel, payload)));
                Thread.sleep(500);
            }
            // The server let go of the client, which is still connected and has read nothing.
            await().atMost(Duration.ofSeconds(30)).until(() -> dispatcher.subscribers() == before);
            assertTrue(client.isConnected() && !client.isClosed());
        }
    }
}
