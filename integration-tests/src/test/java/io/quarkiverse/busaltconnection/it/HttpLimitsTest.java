package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

/**
 * {@code quarkus.imdispatcher.http.max-clients} (2 here): beyond it a long-poll is answered 503 with
 * {@code Retry-After}, and an SSE request gets a stream that asks the EventSource to come back ({@code retry:}) and
 * ends, since a browser's EventSource never retries after an answer other than 200. Once a client leaves, the next is
 * served.
 */
@QuarkusTest
@TestProfile(ProbeIntervalDisabledTest.IntervalDisabled.class)
class HttpLimitsTest {

    @Inject
    BusStatus status;

    @TestHTTPResource("/imdispatcher/sse")
    URI sse;

    @Test
    void beyondMaxClientsALongPollIsBusyAndAStreamAsksToComeBack() throws Exception {
        String channel = DeliveryTest.unique("public.limits");
        int before = Subscribers.none(status);
        List<HttpResponse<Stream<String>>> streams = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            streams.add(open(channel));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> status.httpClients() == before + 2);
        double pollsAway = turnedAway("long-poll");
        double streamsAway = turnedAway("sse");

        given().contentType(ContentType.JSON).body(Map.of("channels", List.of(channel)))
                .post("/imdispatcher/poll").then().statusCode(503).header("Retry-After", "2")
                .body("error", equalTo("busy")).body("message", containsString("quarkus.imdispatcher.http.max-clients"));
        HttpResponse<Stream<String>> turnedAway = open(channel);
        String answer;
        try (Stream<String> lines = turnedAway.body()) {
            // It ends by itself: collecting all its lines returns.
            answer = lines.collect(Collectors.joining("\n"));
        }
        assertTrue(turnedAway.statusCode() == 200 && answer.contains("retry: 2000") && answer.contains("event: busy")
                && answer.contains("max-clients"), turnedAway.statusCode() + ": " + answer);

        assertEquals(pollsAway + 1, turnedAway("long-poll"));
        assertEquals(streamsAway + 1, turnedAway("sse"));

        streams.remove(0).body().close();
        await().atMost(Duration.ofSeconds(10)).until(() -> status.httpClients() == before + 1);
        HttpResponse<Stream<String>> served = open(channel);
        streams.add(served);
        assertTrue(served.body().iterator().next().equals(": connected"), "the next client is not served");
        streams.forEach(stream -> stream.body().close());
    }

    private static double turnedAway(String kind) {
        return PrometheusScrape.valueOrZero("imdispatcher_http_turned_away_total", "kind=\"" + kind + "\"");
    }

    private HttpResponse<Stream<String>> open(String channel) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(sse + "?channel=" + channel)).GET()
                .build(), HttpResponse.BodyHandlers.ofLines());
    }
}
