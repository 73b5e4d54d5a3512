package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.runtime.dispatch.EngineStatus;
import io.quarkiverse.busaltconnection.runtime.store.BusRetention;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;

/**
 * Loss made visible: messages deleted by retention before a listener or an HTTP client read them are reported, never
 * silently skipped. And HTTP paging without gaps.
 */
@QuarkusTest
class RetentionGapTest {

    @Inject
    Bus bus;

    @Inject
    EngineStatus status;

    @Inject
    BusRetention retention;

    @TestHTTPResource("/")
    URI root;

    @Test
    void aListenerBehindRetentionReportsTheLostRangeAndGoesOn() throws Exception {
        String run = DeliveryTest.unique("gap");
        long lossesBefore = status.lossLog().count();
        double lostBefore = PrometheusScrape.required("imdispatcher_messages_lost_total");
        // The slow listener blocks inside the first message, so the next two wait in the table.
        bus.send("slow", run + ":first");
        await().atMost(Duration.ofSeconds(10)).until(() -> DeliveryTest.received("slow-started").contains(run + ":first"));
        bus.send("slow", run + ":deleted-1");
        bus.send("slow", run + ":deleted-2");
        backdateAndExpire(run + ":deleted-%");
        bus.send("slow", run + ":after");
        openGate();
        // Each message waits at the gate: let "after" through too.
        await().atMost(Duration.ofSeconds(10)).until(() -> DeliveryTest.received("slow-started").contains(run + ":after"));
        openGate();
        await().atMost(Duration.ofSeconds(10)).until(() -> DeliveryTest.received("slow").contains(run + ":after"));
        List<String> got = DeliveryTest.received("slow").stream().filter(e -> e.startsWith(run)).toList();
        assertEquals(List.of(run + ":first", run + ":after"), got);
        assertTrue(status.lossLog().count() > lossesBefore, "the loss was not reported");
        // The meter counts the positions lost: the two deleted messages at least.
        assertTrue(PrometheusScrape.required("imdispatcher_messages_lost_total") >= lostBefore + 2,
                "imdispatcher.messages.lost did not count the loss");
        var loss = status.lossLog().recent().get(status.lossLog().recent().size() - 1);
        assertTrue(loss.reader().contains("Listeners#slow"), loss.toString());
        given().get("/q/health/ready").then().body(containsString("lost messages of slow"));
    }

    @Test
    void anHttpClientBehindRetentionIsToldToReload() throws Exception {
        String channel = DeliveryTest.unique("public.retained");
        long before = status.head();
        bus.send(channel, "gone-1");
        bus.send(channel, "gone-2");
        bus.send(channel, "kept");
        backdateAndExpire("gone-%");
        JsonPath answer = poll(Map.of("channels", List.of(channel), "last", cursor(before)));
        assertTrue(answer.getBoolean("reload"));
        assertTrue(answer.getString("reason").contains("deleted by retention"), answer.getString("reason"));
        assertEquals(List.of("kept"), answer.getList("messages.payload"));

        try (Socket socket = new Socket(root.getHost(), root.getPort())) {
            socket.setSoTimeout(10_000);
            get(socket, "/imdispatcher/sse?channel=" + channel, "Last-Event-ID: " + cursor(before));
            BufferedReader lines = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            // The page the client could still read comes first, then the reload, whose cursor follows it: the client
            // applies what it got, reloads, and goes on from there.
            String line;
            String id = null;
            long kept = -1;
            while ((line = lines.readLine()) != null && !line.equals("event: reload")) {
                if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.contains("\"kept\"")) {
                    kept = position(id);
                }
            }
            assertTrue(kept > 0, "no kept message before the reload event");
            String reloadId = null;
            while ((line = lines.readLine()) != null && !line.isEmpty()) {
                if (line.startsWith("id: ")) {
                    reloadId = line.substring(4);
                }
            }
            if (reloadId == null) {
                reloadId = id;
            }
            assertTrue(position(reloadId) >= kept, "the reload's cursor " + reloadId + " is before the kept message");
        }
    }

    @Test
    void aCursorOfAnotherBusIsToldToReload() {
        String channel = DeliveryTest.unique("public.other");
        JsonPath answer = poll(Map.of("channels", List.of(channel), "last", (status.epoch() + 1) + "-5"));
        assertTrue(answer.getBoolean("reload"));
        assertTrue(answer.getString("reason").contains("belongs to another bus"), answer.getString("reason"));
        assertEquals(cursor(status.head()), answer.getString("last"));
    }

    /** Retention-max, which needs messages numbered a week ago, is checked on a table of its own: RetentionStatementTest. */
    @Test
    void retentionWaitsForAGroupThatHasNotPassedAMessageUntilItExpires() throws Exception {
        String held = DeliveryTest.unique("held");
        bus.send(held, "held");
        await().atMost(Duration.ofSeconds(10)).until(() -> unpositioned("held%") == 0);
        try (Connection connection = DurableBusTest.direct(); var statement = connection.createStatement()) {
            // A group that has not passed the message, and moved a moment ago: no instance runs it right now.
            try (PreparedStatement group = connection.prepareStatement("INSERT INTO imdispatcher_bus_groups"
                    + " (group_name, channel, position, epoch) SELECT 'absent', ?, min(position) - 1, 0 FROM"
                    + " imdispatcher_bus_positions WHERE channel = ?")) {
                group.setString(1, held);
                group.setString(2, held);
                group.executeUpdate();
            }
            BusRows.backdateThrough(connection, "b.channel = ?", held, "2 hours");
        }
        retention.deleteOlderThan(Duration.ofHours(1));
        assertEquals(1, messages(held), "retention deleted a message a group had not passed");

        // The group's position has not moved for longer than its expiry (7 days): it holds nothing any more.
        try (Connection connection = DurableBusTest.direct(); var statement = connection.createStatement()) {
            statement.execute("UPDATE imdispatcher_bus_groups SET updated_at = now() - interval '8 days' WHERE"
                    + " group_name = 'absent'");
        }
        retention.deleteOlderThan(Duration.ofHours(1));
        assertEquals(0, messages(held), "an expired group still held retention");
    }

    private static int messages(String channel) throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement count = connection.prepareStatement(
                        "SELECT count(*) FROM imdispatcher_bus WHERE channel = ?")) {
            count.setString(1, channel);
            try (var result = count.executeQuery()) {
                result.next();
                return result.getInt(1);
            }
        }
    }

    @Test
    void aCursorAheadOfTheHeadIsToldToReloadAtTheHead() {
        String channel = DeliveryTest.unique("public.ahead");
        long head = status.head();
        JsonPath answer = poll(Map.of("channels", List.of(channel), "last", cursor(head + 1_000_000)));
        assertTrue(answer.getBoolean("reload"), answer.prettify());
        assertTrue(answer.getString("reason").contains("is ahead of this bus's head"), answer.getString("reason"));
        // Back at the head: a message sent now reaches the client that polls from there.
        long reloadedAt = Long.parseLong(answer.getString("last").substring(answer.getString("last").indexOf('-')
                + 1));
        assertTrue(reloadedAt >= head && reloadedAt < head + 1_000_000, answer.getString("last"));
        bus.send(channel, "after the reload");
        await().atMost(Duration.ofSeconds(10)).until(() -> poll(Map.of("channels", List.of(channel), "last",
                answer.getString("last"))).getList("messages.payload").contains("after the reload"));
    }

    @Test
    void longPollPagesThroughABacklogLargerThanOneAnswerWithoutAGap() {
        String channel = DeliveryTest.unique("public.page");
        long before = status.head();
        List<String> payloads = IntStream.range(0, 510).mapToObj(i -> "p" + i).toList();
        QuarkusTransaction.requiringNew().run(() -> payloads.forEach(p -> bus.send(channel, p)));
        // One more, in a later transaction, while the first page is read.
        bus.send(channel, "late");
        await().atMost(Duration.ofSeconds(10)).until(() -> status.head() >= before + 511);
        JsonPath first = poll(Map.of("channels", List.of(channel), "last", cursor(before)));
        List<String> got = new java.util.ArrayList<>(first.getList("messages.payload"));
        assertEquals(500, got.size());
        JsonPath second = poll(Map.of("channels", List.of(channel), "last", first.getString("last")));
        got.addAll(second.getList("messages.payload"));
        List<String> expected = new java.util.ArrayList<>(payloads);
        expected.add("late");
        assertEquals(expected, got);
    }

    @Test
    void anSseClientThatLeavesDuringAuthorizationLeavesNothingBehind() throws Exception {
        int before = Subscribers.none(status);
        for (int i = 0; i < 3; i++) {
            try (Socket socket = new Socket(root.getHost(), root.getPort())) {
                // The demo's authorizer takes a second for this channel; the client is gone long before.
                get(socket, "/imdispatcher/sse?channel=public.slow-auth", null);
                Thread.sleep(100);
            }
        }
        Thread.sleep(1_500);
        await().atMost(Duration.ofSeconds(5)).until(() -> status.httpClients() == before);
        // And one that stays is subscribed.
        try (Socket socket = new Socket(root.getHost(), root.getPort())) {
            get(socket, "/imdispatcher/sse?channel=public.slow-auth", null);
            await().atMost(Duration.ofSeconds(5)).until(() -> status.httpClients() == before + 1);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> status.httpClients() == before);
        assertFalse(status.httpClients() > before);
    }

    private static void openGate() {
        given().post("/bus/slow/open").then().statusCode(204);
    }

    private static void get(Socket socket, String path, String header) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
                + (header == null ? "" : header + "\r\n") + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Makes the matching rows two hours old and lets retention (one hour here) delete them. */
    private void backdateAndExpire(String pattern) throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> unpositioned(pattern) == 0);
        try (Connection connection = DurableBusTest.direct()) {
            assertTrue(BusRows.backdateThrough(connection, "b.payload LIKE ?", pattern, "2 hours") >= 2);
        }
        assertTrue(retention.deleteOlderThan(Duration.ofHours(1)) >= 2);
    }

    private static int unpositioned(String pattern) throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement count = connection.prepareStatement(
                        "SELECT count(*) FROM imdispatcher_bus b WHERE " + BusRows.UNNUMBERED
                                + " AND payload LIKE ?")) {
            count.setString(1, pattern);
            try (var result = count.executeQuery()) {
                result.next();
                return result.getInt(1);
            }
        }
    }

    private static long position(String cursor) {
        return Long.parseLong(cursor.substring(cursor.indexOf('-') + 1));
    }

    private String cursor(long position) {
        return status.epoch() + "-" + position;
    }

    private static JsonPath poll(Map<String, Object> body) {
        return given().contentType(ContentType.JSON).body(body).post("/imdispatcher/poll").then().statusCode(200)
                .extract().jsonPath();
    }
}
