package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.scheduler.Scheduler;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

/**
 * Messages sent through PgBouncer (transaction pooling) reach @BusListener methods over the direct connection.
 */
@QuarkusTest
class DeliveryTest {

    @Inject
    Scheduler scheduler;

    /** The counterpart of ProbeIntervalDisabledTest: unless turned off, both jobs exist. */
    @Test
    void theBusJobsAreScheduledUnlessTurnedOff() {
        assertNotNull(scheduler.getScheduledJob("imdispatcher-listener-probe"), "the probe job is not scheduled");
        assertNotNull(scheduler.getScheduledJob("imdispatcher-bus-retention"), "the retention job is not scheduled");
    }

    private static final Duration DELIVERY = Duration.ofSeconds(10);

    @Test
    void textSentFromRestArrivesWithItsMessage() {
        String text = unique("hello");
        send("greetings", text);
        await().atMost(DELIVERY).untilAsserted(() -> given().get("/bus/received/greetings").then()
                .body("find { it.startsWith('" + text + "@') }", org.hamcrest.Matchers.matchesPattern(
                        text + "@greetings#\\d+")));
    }

    @Test
    void aChannelFromConfigurationReceives() {
        String text = unique("expressed");
        send("configured-channel", text);
        await().atMost(DELIVERY).until(() -> received("expressed").contains("configured-channel:" + text));
    }

    @Test
    void objectIsSentAsJsonAndMappedBack() {
        long id = System.nanoTime();
        given().contentType(ContentType.JSON).body("{\"id\":" + id + ",\"item\":\"tea\"}").post("/bus/orders")
                .then().statusCode(204);
        await().atMost(DELIVERY).untilAsserted(() -> given().get("/bus/received/orders").then()
                .body("$", hasItem(id + ":tea")));
        // The second listener of the channel saw the JSON text itself.
        await().atMost(DELIVERY).untilAsserted(() -> given().get("/bus/received/orders-audit").then()
                .body("$", hasItem("{\"id\":" + id + ",\"item\":\"tea\"}")));
    }

    @Test
    void plainNotifyFromOutsideTheAppArrives() {
        String text = unique("from-psql");
        // A plain NOTIFY is not stored: one sent while the listener reconnects (an earlier test killed its backend,
        // or the probe found it deaf under load) is gone, as documented. So it is sent again until one arrives.
        await().atMost(DELIVERY).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
            notifyFromOutside("external", text);
            given().get("/bus/received/external").then().body("$", hasItem(text));
        });
    }

    private static void notifyFromOutside(String channel, String text) throws Exception {
        try (Connection connection = DriverManager.getConnection(Servers.postgresJdbcUrl(), Servers.user(),
                Servers.password());
                PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
            statement.setString(1, channel);
            statement.setString(2, text);
            statement.execute();
        }
    }

    @Test
    void rolledBackTransactionDeliversNothing() {
        String rolledBack = unique("rolled-back");
        given().contentType(ContentType.TEXT).body(rolledBack).post("/bus/send-and-roll-back/greetings")
                .then().statusCode(500);
        // PostgreSQL delivers in commit order: once a message committed after the rollback has arrived, the
        // rolled-back one would have arrived before it if it had been sent.
        String after = unique("after-rollback");
        send("greetings", after);
        await().atMost(DELIVERY).until(() -> received("greetings").stream().anyMatch(e -> e.startsWith(after + "@")));
        assertFalse(received("greetings").stream().anyMatch(e -> e.startsWith(rolledBack)),
                "a notification of a rolled-back transaction was delivered");
    }

    @Test
    void transactionDeliversAtCommitInOrder() {
        String text = unique("tx");
        given().contentType(ContentType.TEXT).body(text).post("/bus/send-in-transaction/greetings")
                .then().statusCode(204);
        await().atMost(DELIVERY).until(() -> received("greetings").stream().anyMatch(e -> e.startsWith(text + "-2@")));
        List<String> mine = received("greetings").stream().filter(e -> e.startsWith(text)).toList();
        assertEquals(2, mine.size(), mine.toString());
        assertTrue(mine.get(0).startsWith(text + "-1@") && mine.get(1).startsWith(text + "-2@"), mine.toString());
    }

    @Test
    void listenerThatThrowsDoesNotStopDelivery() {
        String boom = unique("boom");
        String next = unique("next");
        send("fragile", boom);
        send("fragile", next);
        send("greetings", next);
        await().atMost(DELIVERY).until(() -> received("fragile").contains(next));
        assertEquals(List.of(boom, next), received("fragile").stream()
                .filter(e -> e.equals(boom) || e.equals(next)).toList());
        await().atMost(DELIVERY).until(() -> received("greetings").stream().anyMatch(e -> e.startsWith(next + "@")));
    }

    @Test
    void payloadThatIsNotTheListenersTypeIsSkippedForThatListenerOnly() {
        String notJson = unique("not-json");
        long id = System.nanoTime();
        send("orders", notJson);
        given().contentType(ContentType.JSON).body("{\"id\":" + id + ",\"item\":\"after\"}").post("/bus/orders")
                .then().statusCode(204);
        // The typed listener skipped the bad payload and received the next one.
        await().atMost(DELIVERY).until(() -> received("orders").contains(id + ":after"));
        // The untyped listener of the same channel received both.
        await().atMost(DELIVERY).until(() -> received("orders-audit").contains(notJson));
    }

    static void send(String channel, String text) {
        given().contentType(ContentType.TEXT).body(text).post("/bus/send/" + channel).then().statusCode(204);
    }

    static List<String> received(String listener) {
        return given().get("/bus/received/" + listener).then().statusCode(200).extract().jsonPath().getList("$",
                String.class);
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }
}
