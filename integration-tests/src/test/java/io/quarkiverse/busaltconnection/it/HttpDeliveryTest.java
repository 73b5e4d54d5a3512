package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;

/**
 * Long-poll and Server-Sent Events over the bus table, with the demo's BusChannelAuthorizer.
 */
@QuarkusTest
class HttpDeliveryTest {

    @Inject
    Bus bus;

    @Inject
    BusStatus status;

    @TestHTTPResource("/imdispatcher/sse")
    URI sse;

    @Test
    void longPollAnswersAtOnceWhenMessagesExistAfterLast() {
        String channel = DeliveryTest.unique("public.news");
        bus.send(channel, "first");
        bus.send(channel, "second");
        // Positions are given just after commit: wait until both have theirs.
        awaitPositioned(channel, 2);
        JsonPath answer = poll(Map.of("channels", List.of(channel), "last", cursor(0)));
        List<Map<String, Object>> all = answer.getList("messages");
        assertEquals(List.of("first", "second"), all.stream().map(m -> m.get("payload")).toList());
        assertFalse(answer.getBoolean("reload"));
        long first = ((Number) all.get(0).get("position")).longValue();
        List<Object> after = poll(Map.of("channels", List.of(channel), "last", cursor(first)))
                .getList("messages.payload");
        assertEquals(List.of("second"), after);
    }

    @Test
    void longPollWaitsAndAnswersWhenAMessageArrives() throws Exception {
        String channel = DeliveryTest.unique("public.wait");
        // From the head: nothing to answer at once, and the message counts whenever the poll subscribes (another
        // test's client closing meanwhile can hide the new one from a count of clients).
        String head = cursor(status.head());
        CompletableFuture<JsonPath> waiting = CompletableFuture
                .supplyAsync(() -> poll(Map.of("channels", List.of(channel), "last", head)));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> status.httpClients() > 0);
        Thread.sleep(200);
        assertFalse(waiting.isDone(), "the poll answered before anything was sent");
        bus.send(channel, "arrived");
        assertEquals(List.of("arrived"), waiting.get(10, TimeUnit.SECONDS).getList("messages.payload"));
    }

    @Test
    void longPollTimesOutEmpty() {
        long start = System.nanoTime();
        assertEquals(List.of(),
                poll(Map.of("channels", List.of(DeliveryTest.unique("public.quiet")))).getList("messages"));
        // The demo's poll-timeout is 2 s: an empty answer before that would not be a timeout.
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() >= 1_900, "answered before the timeout");
    }

    @Test
    void sseResumesFromLastEventIdWithoutGaps() throws Exception {
        String channel = DeliveryTest.unique("public.stream");
        IntStream.rangeClosed(1, 5).forEach(i -> bus.send(channel, "m" + i));
        awaitPositioned(channel, 5);
        List<Map<String, Object>> sent = poll(Map.of("channels", List.of(channel), "last", cursor(0)))
                .getList("messages");
        long second = ((Number) sent.get(1).get("position")).longValue();

        BlockingQueue<String[]> events = new LinkedBlockingQueue<>();
        HttpRequest request = HttpRequest.newBuilder(URI.create(sse + "?channel=" + encode(channel)))
                .header("Last-Event-ID", cursor(second)).GET().build();
        CompletableFuture<HttpResponse<Stream<String>>> response = HttpClient.newHttpClient()
                .sendAsync(request, HttpResponse.BodyHandlers.ofLines());
        CompletableFuture.runAsync(() -> readEvents(response.join().body(), events));
        List<String> received = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            take(events, received, ids, status.epoch());
        }
        bus.send(channel, "m6");
        bus.send(channel, "m7");
        take(events, received, ids, status.epoch());
        take(events, received, ids, status.epoch());
        response.join().body().close();
        assertEquals(List.of("m3", "m4", "m5", "m6", "m7"), received);
        for (int i = 1; i < ids.size(); i++) {
            assertTrue(ids.get(i) > ids.get(i - 1), "event ids not increasing: " + ids);
        }
    }

    /** Clients of the version before epochs kept a message id: the upgrade made it the message's position. */
    @Test
    void aBareNumberIsALegacyCursor() throws Exception {
        String channel = DeliveryTest.unique("public.legacy");
        bus.send(channel, "first");
        bus.send(channel, "second");
        awaitPositioned(channel, 2);
        long first = ((Number) poll(Map.of("channels", List.of(channel), "last", cursor(0)))
                .getList("messages.position").get(0)).longValue();
        assertEquals(List.of("second"), poll(Map.of("channels", List.of(channel), "last", first))
                .getList("messages.payload"));
        assertEquals(List.of("second"), poll(Map.of("channels", List.of(channel), "last", String.valueOf(first)))
                .getList("messages.payload"));

        BlockingQueue<String[]> events = new LinkedBlockingQueue<>();
        HttpRequest request = HttpRequest.newBuilder(URI.create(sse + "?channel=" + encode(channel)))
                .header("Last-Event-ID", String.valueOf(first)).GET().build();
        CompletableFuture<HttpResponse<Stream<String>>> response = HttpClient.newHttpClient()
                .sendAsync(request, HttpResponse.BodyHandlers.ofLines());
        CompletableFuture.runAsync(() -> readEvents(response.join().body(), events));
        List<String> received = new ArrayList<>();
        take(events, received, new ArrayList<>(), status.epoch());
        response.join().body().close();
        assertEquals(List.of("second"), received);
    }

    /**
     * A cursor ahead of the head (of another database, or made up) is told to reload at the head, and the stream goes
     * on from there: what is sent next arrives.
     */
    @Test
    void anSseCursorAheadOfTheHeadReloadsAtTheHeadAndGoesOn() throws Exception {
        String channel = DeliveryTest.unique("public.ahead");
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        HttpRequest request = HttpRequest.newBuilder(URI.create(sse + "?channel=" + encode(channel)))
                .header("Last-Event-ID", cursor(status.head() + 1_000)).GET().build();
        CompletableFuture<HttpResponse<Stream<String>>> response = HttpClient.newHttpClient()
                .sendAsync(request, HttpResponse.BodyHandlers.ofLines());
        CompletableFuture.runAsync(() -> {
            try {
                response.join().body().forEach(lines::add);
            } catch (RuntimeException closed) {
                // The test closed the stream.
            }
        });
        String reloadId = null;
        for (String line = lines.poll(10, TimeUnit.SECONDS); line != null; line = lines.poll(10, TimeUnit.SECONDS)) {
            if (line.startsWith("id: ")) {
                reloadId = line.substring(4);
            } else if (line.equals("event: reload")) {
                break;
            }
        }
        assertNotNull(reloadId, "no reload event");
        long head = Long.parseLong(reloadId.substring(reloadId.indexOf('-') + 1));
        assertTrue(head <= status.head(), "reload at " + reloadId + ", ahead of the head " + status.head());
        bus.send(channel, "after-reload");
        String data = null;
        for (String line = lines.poll(10, TimeUnit.SECONDS); line != null; line = lines.poll(10, TimeUnit.SECONDS)) {
            if (line.startsWith("data: ") && line.contains("after-reload")) {
                data = line;
                break;
            }
        }
        response.join().body().close();
        assertNotNull(data, "the message sent after the reload did not arrive");
    }

    /**
     * A client whose cursor is at the head this instance has read goes live without reading the table: a storm of
     * reconnections of caught-up clients costs the application's pool nothing. Counted by the extension's meter of
     * backlog reads; one client behind the head shows that it counts.
     */
    @Test
    void clientsAtTheHeadReadNothingFromTheTable() throws Exception {
        String channel = DeliveryTest.unique("public.caught-up");
        int before = Subscribers.none(status);
        double reads = backlogReads();
        List<HttpResponse<Stream<String>>> streams = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            streams.add(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(sse + "?channel="
                    + encode(channel))).header("Last-Event-ID", cursor(status.head())).GET().build(),
                    HttpResponse.BodyHandlers.ofLines()));
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> status.httpClients() == before + 20);
        streams.forEach(stream -> stream.body().close());
        assertEquals(reads, backlogReads(), "clients at the head read the table");

        // One from the start of the bus reads its backlog, and is counted.
        HttpResponse<Stream<String>> behind = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(sse
                + "?channel=" + encode(channel))).header("Last-Event-ID", cursor(0)).GET().build(),
                HttpResponse.BodyHandlers.ofLines());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> backlogReads() > reads);
        behind.body().close();
    }

    private static double backlogReads() {
        return PrometheusScrape.valueOrZero("imdispatcher_http_backlog_reads_total", "kind=\"sse\"");
    }

    @Test
    void channelsTheRequestMayNotReadAreRefused() {
        given().contentType(ContentType.JSON).body(Map.of("channels", List.of("public.ok", "secret")))
                .post("/imdispatcher/poll").then().statusCode(403).contentType(ContentType.JSON)
                .body("error", equalTo("forbidden")).body("message", containsString("'secret'"));
        given().get("/imdispatcher/sse?channel=user.alice").then().statusCode(403)
                .body("message", containsString("'user.alice'"));
        String channel = "user.alice";
        bus.send(channel, "for alice");
        // Another user is refused the same channel: the authorizer sees the request.
        given().header("X-User", "bob").contentType(ContentType.JSON)
                .body(Map.of("channels", List.of(channel), "last", cursor(0))).post("/imdispatcher/poll").then()
                .statusCode(403).body("message", containsString("'user.alice'"));
        given().header("X-User", "alice").contentType(ContentType.JSON)
                .body(Map.of("channels", List.of(channel), "last", cursor(0))).post("/imdispatcher/poll").then()
                .statusCode(200).body("messages.payload", org.hamcrest.Matchers.hasItem("for alice"));
    }

    @Test
    void malformedRequestsGetA400SayingWhatToChange() {
        badPoll("not json", 400, "the body is not JSON");
        badPoll("{\"last\": 1}", 400, "\"channels\" must be an array");
        badPoll("{\"channels\": [\"public.a\"], \"last\": \"abc\"}", 400, "\"last\" must be a cursor");
        badPoll("{\"channels\": [\"public.a\"], \"last\": -1}", 400, "\"last\" must be a cursor");
        badPoll("{\"channels\": [\"public.a\"], \"last\": \"1--2\"}", 400, "\"last\" must be a cursor");
        badPoll("{\"channels\": []}", 400, "no channel given");
        badPoll("{\"channels\": [\"\"]}", 400, "the channel name is empty");
        String many = IntStream.range(0, 51).mapToObj(i -> "\"public." + i + "\"").reduce((a, b) -> a + "," + b)
                .orElseThrow();
        badPoll("{\"channels\": [" + many + "]}", 400, "at most 50 per request");
        badPoll("{\"channels\": [\"public." + "x".repeat(1000) + "\"]}", 400, "at most 1000");
        badPoll("{\"channels\": [\"public.a\"], \"pad\": \"" + "x".repeat(70_000) + "\"}", 413, "at most 65536");
        given().get("/imdispatcher/poll").then().statusCode(405).body("error", equalTo("method-not-allowed"));
        given().get("/imdispatcher/sse").then().statusCode(400).body("message", containsString("no channel given"));
        given().header("Last-Event-ID", "x").get("/imdispatcher/sse?channel=public.a").then().statusCode(400)
                .body("message", containsString("the Last-Event-ID header must be a cursor"));
        // The bus and the listeners go on.
        String text = DeliveryTest.unique("after-bad-requests");
        DeliveryTest.send("greetings", text);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(text + "@")));
    }

    private static void badPoll(String body, int status, String message) {
        given().contentType(ContentType.JSON).body(body).post("/imdispatcher/poll").then().statusCode(status)
                .contentType(ContentType.JSON).body("message", containsString(message));
    }

    private static JsonPath poll(Map<String, Object> body) {
        return given().contentType(ContentType.JSON).body(body).post("/imdispatcher/poll").then().statusCode(200)
                .extract().jsonPath();
    }

    private static void readEvents(Stream<String> lines, BlockingQueue<String[]> events) {
        String[] event = new String[2];
        try {
            lines.forEach(line -> {
                if (line.startsWith("id: ")) {
                    event[0] = line.substring(4);
                } else if (line.startsWith("data: ")) {
                    event[1] = line.substring(6);
                } else if (line.isEmpty() && event[1] != null) {
                    events.add(new String[] { event[0], event[1] });
                    event[0] = null;
                    event[1] = null;
                }
            });
        } catch (RuntimeException closed) {
            // The test closed the stream.
        }
    }

    private static void take(BlockingQueue<String[]> events, List<String> payloads, List<Long> ids, long epoch)
            throws InterruptedException {
        String[] event = events.poll(10, TimeUnit.SECONDS);
        assertNotNull(event, "no event within 10 s; got " + payloads);
        JsonPath data = new JsonPath(event[1]);
        assertEquals(epoch + "-" + data.getLong("position"), event[0]);
        payloads.add(data.getString("payload"));
        ids.add(data.getLong("position"));
    }

    private void awaitPositioned(String channel, int count) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> poll(Map.of("channels",
                List.of(channel), "last", cursor(0))).getList("messages").size() == count);
    }

    /** The cursor of a position on this bus: "from the start" is position 0. */
    private String cursor(long position) {
        return status.epoch() + "-" + position;
    }

    private static String encode(String value) {
        return java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8);
    }
}
