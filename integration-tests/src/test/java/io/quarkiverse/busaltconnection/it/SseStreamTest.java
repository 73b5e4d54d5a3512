package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusStatus;
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
    BusStatus status;

    @TestHTTPResource("/imdispatcher/sse")
    URI sse;

    @Test
    void anIdleStreamGetsKeepAliveComments() throws Exception {
        String channel = DeliveryTest.unique("public.idle");
        HttpResponse<Stream<String>> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(sse + "?channel=" + channel)).GET().build(), HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> lines = response.body()) {
            Iterator<String> read = lines.iterator();
            // The demo sends them every second; a stream that sends nothing fails here instead of blocking.
            int keepAlives = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                int seen = 0;
                while (seen < 2) {
                    if (read.next().equals(": keep-alive")) {
                        seen++;
                    }
                }
                return seen;
            }, "fewer than 2 keep-alive comments in 10 s");
            assertEquals(2, keepAlives);
        }
    }

    @Test
    void aClientThatLeavesIsUnsubscribed() throws Exception {
        String channel = DeliveryTest.unique("public.leaving");
        int before = Subscribers.none(status);
        HttpResponse<Stream<String>> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(sse + "?channel=" + channel)).GET().build(), HttpResponse.BodyHandlers.ofLines());
        await().atMost(Duration.ofSeconds(10)).until(() -> status.httpClients() == before + 1);
        response.body().close();
        await().atMost(Duration.ofSeconds(10)).until(() -> status.httpClients() == before);
    }

    @Test
    void aClientThatStopsReadingIsLetGo() throws Exception {
        String channel = DeliveryTest.unique("public.stalled");
        int before = Subscribers.none(status);
        try (Socket client = new Socket(sse.getHost(), sse.getPort())) {
            // A small receive window, never read: the server's writes back up.
            client.setReceiveBufferSize(4096);
            OutputStream out = client.getOutputStream();
            out.write(("GET " + sse.getPath() + "?channel=" + channel + " HTTP/1.1\r\nHost: " + sse.getHost()
                    + "\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> status.httpClients() == before + 1);
            String payload = "x".repeat(64 * 1024);
            for (int batch = 0; batch < 10 && status.httpClients() > before; batch++) {
                // 4 MiB a batch, far beyond what the sockets can buffer.
                QuarkusTransaction.requiringNew().run(() -> IntStream.range(0, 64)
                        .forEach(i -> bus.send(channel, payload)));
                Thread.sleep(500);
            }
            // The server let go of the client, which has read nothing so far.
            await().atMost(Duration.ofSeconds(30)).until(() -> status.httpClients() == before);
            // It resumes from the last event it read, as an EventSource does after its stream ended: the next
            // message of its channel follows, without a gap.
            client.setSoTimeout(10_000);
            BufferedReader stalled = new BufferedReader(new InputStreamReader(client.getInputStream(),
                    StandardCharsets.UTF_8));
            String cursor = nextEventId(stalled::readLine);
            HttpResponse<Stream<String>> resumed = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(sse + "?channel=" + channel)).header("Last-Event-ID", cursor).GET().build(),
                    HttpResponse.BodyHandlers.ofLines());
            try (Stream<String> lines = resumed.body()) {
                Iterator<String> read = lines.iterator();
                String next = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> nextEventId(read::next),
                        "no event after resuming from " + cursor);
                assertEquals(secondPosition(channel, position(cursor)), position(next),
                        "resumed from " + cursor + " at " + next);
            }
        }
    }

    /** The next {@code id:} of the stream. */
    private static String nextEventId(Callable<String> lines) throws Exception {
        String line;
        while ((line = lines.call()) != null) {
            if (line.startsWith("id: ")) {
                return line.substring(4);
            }
        }
        throw new AssertionError("the stream ended before an event");
    }

    private static long position(String cursor) {
        return Long.parseLong(cursor.substring(cursor.indexOf('-') + 1));
    }

    /** The position of the channel's first message after {@code after}, read from the table. */
    private static long secondPosition(String channel, long after) throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement next = connection.prepareStatement("SELECT min(position) FROM"
                        + " imdispatcher_bus_positions WHERE channel = ? AND position > ?")) {
            next.setString(1, channel);
            next.setLong(2, after);
            try (ResultSet row = next.executeQuery()) {
                row.next();
                return row.getLong(1);
            }
        }
    }
}
