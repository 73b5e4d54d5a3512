package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Inputs at the edges (complementing DeliveryTest, DurableBusTest and HttpDeliveryTest): empty and 10 MB payloads,
 * backslashes in a channel name, a listener that blocks. Each time the application keeps serving and nothing is
 * lost.
 */
@QuarkusTest
class BadInputTest {

    private static final Duration DELIVERY = Duration.ofSeconds(30);

    @Inject
    Bus bus;

    @Test
    void emptyPayloadArrivesEmpty() {
        String marker = DeliveryTest.unique("after-empty");
        bus.send("external", "");
        bus.send("external", marker);
        await().atMost(DELIVERY).until(() -> DeliveryTest.received("external").contains(marker));
        List<String> received = DeliveryTest.received("external");
        assertEquals("", received.get(received.indexOf(marker) - 1), "the empty payload did not arrive before " + marker);
    }

    @Test
    void tenMegabytePayloadOnABackslashChannelArrivesIntact() {
        StringBuilder payload = new StringBuilder();
        while (payload.length() < 10 * 1024 * 1024) {
            payload.append("\\\\ backslashes \\n not a newline, ünïcødé ").append(payload.length()).append('\n');
        }
        String text = payload.toString();
        // Straight to the bus: 10 MB is past the demo HTTP endpoint's body limit (quarkus.http.limits.max-body-size).
        bus.send("back\\slash\\channel", text);
        String expected = text.length() + ":" + Digests.sha256(text);
        await().atMost(Duration.ofSeconds(60)).until(() -> DeliveryTest.received("backslashes").contains(expected));
    }

    @Test
    void aBlockingListenerHoldsUpOnlyItself() {
        String first = DeliveryTest.unique("slow-1");
        String second = DeliveryTest.unique("slow-2");
        bus.send("slow", first);
        await().atMost(DELIVERY).until(() -> DeliveryTest.received("slow-started").contains(first));
        bus.send("slow", second);
        // While the slow listener is blocked on its first message, other listeners keep receiving.
        String other = DeliveryTest.unique("meanwhile");
        DeliveryTest.send("greetings", other);
        await().atMost(DELIVERY)
                .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(other + "@")));
        assertFalse(DeliveryTest.received("slow").contains(first), "the slow listener was not blocked");
        // Its own messages wait for it, in order, and none is lost.
        given().post("/bus/slow/open").then().statusCode(204);
        await().atMost(DELIVERY).until(() -> DeliveryTest.received("slow-started").contains(second));
        given().post("/bus/slow/open").then().statusCode(204);
        await().atMost(DELIVERY).until(() -> DeliveryTest.received("slow").contains(second));
        List<String> slow = DeliveryTest.received("slow").stream().filter(e -> e.equals(first) || e.equals(second))
                .toList();
        assertEquals(List.of(first, second), slow);
    }
}
