package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.restassured.http.ContentType;

/**
 * Two application JVMs on a database of their own, one sending a message every few milliseconds while the other
 * sequences: the sender sends no wake-ups then, since the sequencer's runs say in the state row that it goes on
 * looking on its own (awake_until). The sequencing JVM is killed (SIGKILL) in such a moment; the sender's instance
 * takes the sequencer over, and its listener gets every message once, in send order, those committed around the kill
 * included.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class SequencerKilledIT {

    @Test
    void theSequencerKilledWhileSendersSkipTheirWakeUpsLosesNothing() throws Exception {
        try (FreshDatabase database = new FreshDatabase("sequencer_killed")) {
            int portA = AppProcess.freePort();
            int portB = AppProcess.freePort();
            AppProcess a = AppProcess.start(database.appConfig(portA));
            AppProcess b = null;
            AtomicBoolean sending = new AtomicBoolean(true);
            try {
                b = AppProcess.start(database.appConfig(portB));
                a.awaitHttp(portA, "/q/health/ready");
                b.awaitHttp(portB, "/q/health/ready");
                String baseA = "http://localhost:" + portA;
                String baseB = "http://localhost:" + portB;
                await().atMost(Duration.ofSeconds(20)).until(() -> sequencing(baseA) || sequencing(baseB));
                AppProcess sequencer = sequencing(baseA) ? a : b;
                String sender = sequencer == a ? baseB : baseA;

                String run = DeliveryTest.unique("killed");
                AtomicInteger sent = new AtomicInteger();
                CompletableFuture<Void> sends = CompletableFuture.runAsync(() -> {
                    while (sending.get()) {
                        given().baseUri(sender).contentType(ContentType.TEXT).body(run + ":" + sent.get())
                                .post("/bus/send/" + Channels.SEQUENCE).then().statusCode(204);
                        sent.incrementAndGet();
                        pause(5);
                    }
                });
                await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() >= 100);
                // The moment: the sequencer has told the senders it looks on its own for a while yet.
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
                        .until(() -> sequencerLooksOnItsOwn(database));
                sequencer.process.destroyForcibly();
                assertTrue(sequencer.process.waitFor(30, TimeUnit.SECONDS));
                int atKill = sent.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> sequencing(sender));
                await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() >= atKill + 100);
                sending.set(false);
                sends.get(30, TimeUnit.SECONDS);

                List<String> expected = IntStream.range(0, sent.get()).mapToObj(i -> run + ":" + i).toList();
                await().atMost(Duration.ofSeconds(30)).until(() -> mine(sender, run).size() >= expected.size());
                assertEquals(expected, mine(sender, run), "lost, doubled or out of order at the surviving instance");
            } finally {
                sending.set(false);
                a.close();
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    private static boolean sequencerLooksOnItsOwn(FreshDatabase database) throws Exception {
        try (Connection connection = database.connect();
                Statement statement = connection.createStatement();
                ResultSet awake = statement.executeQuery("SELECT coalesce(awake_until > now() + interval '10"
                        + " milliseconds', false) FROM imdispatcher_bus_state")) {
            return awake.next() && awake.getBoolean(1);
        }
    }

    private static boolean sequencing(String base) {
        try {
            return Boolean.TRUE.equals(given().baseUri(base).get("/bus/listener").then().statusCode(200).extract()
                    .jsonPath().getMap("$").get("sequencing"));
        } catch (RuntimeException | AssertionError e) {
            return false;
        }
    }

    private static List<String> mine(String base, String run) {
        return given().baseUri(base).get("/bus/received/sequence").then().statusCode(200).extract().jsonPath()
                .getList("$", String.class).stream().filter(e -> e.startsWith(run + ":")).toList();
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
