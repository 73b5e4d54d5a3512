package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 * Two application JVMs on a database of their own, one sending messages from four threads, each a message every few
 * milliseconds, while the other sequences: the sender sends no wake-ups then, since the sequencer's runs say in the
 * state row that it goes on looking on its own (awake_until). The sequencing JVM is killed (SIGKILL) in such a moment;
 * the sender's instance takes the sequencer over, and its listener gets every message once, each thread's in send
 * order, those committed around the kill included. The same with one slow sender, whose statements carry their
 * wake-ups, the sequencer killed at any moment.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class SequencerKilledIT {

    /**
     * Sending threads, each one message after the other: together fast enough (hundreds a second) that the sequencer
     * looks on its own; slower, it waits for the wake-ups the senders' statements carry, and there is no such moment.
     */
    private static final int SENDERS = 4;

    @Test
    void theSequencerKilledWhileSendersSkipTheirWakeUpsLosesNothing() throws Exception {
        killTheSequencerWhileSending("sequencer_killed", SENDERS, true);
    }

    /**
     * One thread sends a message every few milliseconds, slowly enough that its statements carry their wake-ups and the
     * sequencer only waits for them; it is killed at any moment.
     */
    @Test
    void theSequencerKilledWhileSendersCarryTheirWakeUpsLosesNothing() throws Exception {
        killTheSequencerWhileSending("sequencer_killed_quiet", 1, false);
    }

    private static int total(AtomicInteger[] sent) {
        return Arrays.stream(sent).mapToInt(AtomicInteger::get).sum();
    }

    private static void killTheSequencerWhileSending(String name, int threads, boolean whileItLooksOnItsOwn)
            throws Exception {
        try (FreshDatabase database = new FreshDatabase(name)) {
            int portA = AppProcess.freePort();
            int portB = AppProcess.freePort();
            AppProcess a = AppProcess.start(database.appConfig(portA));
            AppProcess b = null;
            AtomicBoolean sending = new AtomicBoolean(true);
            ExecutorService senders = Executors.newFixedThreadPool(threads);
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
                AtomicInteger[] sent = IntStream.range(0, threads).mapToObj(i -> new AtomicInteger())
                        .toArray(AtomicInteger[]::new);
                List<CompletableFuture<Void>> sends = IntStream.range(0, threads).mapToObj(t -> CompletableFuture
                        .runAsync(() -> {
                            while (sending.get()) {
                                given().baseUri(sender).contentType(ContentType.TEXT)
                                        .body(run + ":" + t + ":" + sent[t].get())
                                        .post("/bus/send/" + Channels.SEQUENCE).then().statusCode(204);
                                sent[t].incrementAndGet();
                                pause(whileItLooksOnItsOwn ? 2 : 5);
                            }
                        }, senders)).toList();
                await().atMost(Duration.ofSeconds(30)).until(() -> total(sent) >= 100 * threads);
                if (whileItLooksOnItsOwn) {
                    // The moment: the sequencer has told the senders it looks on its own for a while yet.
                    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
                            .until(() -> sequencerLooksOnItsOwn(database));
                }
                sequencer.process.destroyForcibly();
                assertTrue(sequencer.process.waitFor(30, TimeUnit.SECONDS));
                int atKill = total(sent);
                await().atMost(Duration.ofSeconds(30)).until(() -> sequencing(sender));
                await().atMost(Duration.ofSeconds(30)).until(() -> total(sent) >= atKill + 100 * threads);
                sending.set(false);
                CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

                await().atMost(Duration.ofSeconds(30)).until(() -> mine(sender, run).size() >= total(sent));
                List<String> received = mine(sender, run);
                for (int t = 0; t < threads; t++) {
                    String prefix = run + ":" + t + ":";
                    List<String> expected = IntStream.range(0, sent[t].get()).mapToObj(i -> prefix + i).toList();
                    assertEquals(expected, received.stream().filter(e -> e.startsWith(prefix)).toList(),
                            "lost, doubled or out of order at the surviving instance (sender " + t + ")");
                }
                assertEquals(total(sent), received.size(), "messages received that were not sent");
            } finally {
                sending.set(false);
                senders.shutdown();
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
