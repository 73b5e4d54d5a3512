package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The packaged application stopped (SIGTERM) while every scheduled job runs each second, retention is in the middle of
 * a DELETE, and senders, listeners and an SSE client are busy: it exits normally, and its log holds no ERROR and no
 * stack trace.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class CleanStopIT {

    private static final int SENDERS = 4;

    @Test
    void stoppingUnderLoadWhileTheJobsRunLogsNoError() throws Exception {
        // A database of its own: retention of 2 s would otherwise delete the other tests' messages. One round: the
        // slow DELETE makes the stop fall inside a retention run every time.
        try (FreshDatabase database = new FreshDatabase("stop")) {
            stopUnderLoad(1, database);
        }
    }

    private void stopUnderLoad(int round, FreshDatabase database) throws Exception {
        int port = AppProcess.freePort();
        Map<String, String> config = database.appConfig(port);
        // Retention deletes something at every run, and every job runs each second.
        config.put("quarkus.imdispatcher.bus.retention", "2s");
        config.put("quarkus.imdispatcher.bus.cleanup-interval", "1s");
        config.put("quarkus.imdispatcher.probe.interval", "1s");
        config.put("quarkus.imdispatcher.pgbouncer.interval", "1s");
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        String base = "http://localhost:" + port;
        AtomicBoolean sending = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        ExecutorService senders = Executors.newFixedThreadPool(SENDERS + 1);
        try (AppProcess app = AppProcess.start(config)) {
            app.awaitHttp(port, "/q/health/ready");
            // A Server-Sent Events client reading every channel it may read, until the application goes away.
            senders.submit(() -> client.send(HttpRequest.newBuilder(URI.create(base
                    + "/imdispatcher/sse?channel=public.news")).build(), HttpResponse.BodyHandlers.discarding()));
            for (int s = 0; s < SENDERS; s++) {
                senders.submit(() -> {
                    while (sending.get()) {
                        int n = sent.incrementAndGet();
                        String channel = n % 2 == 0 ? "greetings" : "public.news";
                        try {
                            client.send(HttpRequest.newBuilder(URI.create(base + "/bus/send/" + channel))
                                    .header("Content-Type", "text/plain")
                                    .POST(HttpRequest.BodyPublishers.ofString("load-" + n))
                                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
                        } catch (Exception stopped) {
                            return null;
                        }
                    }
                    return null;
                });
            }
            // Retention's next DELETE meets rows that take a quarter of a second each to delete: the stop comes
            // while it runs, and closes the datasource under it.
            try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
                statement.execute("CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
                        + " IF OLD.channel = 'slow-to-delete' THEN PERFORM pg_sleep(0.25); END IF; RETURN OLD; END$$");
                statement.execute("CREATE TRIGGER slow_delete BEFORE DELETE ON imdispatcher_bus FOR EACH ROW"
                        + " EXECUTE FUNCTION slow_delete()");
                // Old, numbered rows of a channel nobody reads, at positions no real message takes.
                // (Transaction id 0: none the sequencer would number.)
                statement.execute("WITH m AS (INSERT INTO imdispatcher_bus (xid, channel, payload) SELECT '0',"
                        + " 'slow-to-delete', '' FROM generate_series(1, 24) RETURNING id) INSERT INTO"
                        + " imdispatcher_bus_positions (position, channel, xid, id, numbered_at) SELECT -row_number()"
                        + " OVER (), 'slow-to-delete', '0', id, now() - interval '1 hour' FROM m");
            }
            Thread.sleep(2_500);
            assertTrue(sent.get() > 0, "no message was sent");
            int exit = app.stop();
            sending.set(false);
            String output = app.output();
            // The JVM's status after SIGTERM (128 + 15) is an orderly exit; the log says whether it was one.
            assertEquals(143, exit, "round " + round + ": exit code " + exit + "\n" + output);
            assertTrue(output.contains("stopped in"), "round " + round + ": no orderly stop:\n" + output);
            String checked = withoutAcceptorRace(output);
            assertFalse(checked.contains(" ERROR "), "round " + round + ": an ERROR while stopping:\n" + output);
            assertFalse(checked.contains("\tat "), "round " + round + ": a stack trace while stopping:\n" + output);
        } finally {
            sending.set(false);
            senders.shutdownNow();
            senders.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /**
     * The output without the one stack trace that is Vert.x's and not the bus's: its HTTP server can accept a load
     * client's new connection after its event loops closed, and Netty's acceptor then logs "Failed to register an
     * accepted channel" at WARN with an IllegalStateException (seen once in CI, at a stop with senders reconnecting).
     */
    private static String withoutAcceptorRace(String output) {
        StringBuilder kept = new StringBuilder();
        boolean skipping = false;
        for (String line : output.split("\n")) {
            if (line.contains("Failed to register an accepted channel")) {
                skipping = true;
                continue;
            }
            if (skipping && (line.startsWith("\tat ") || line.startsWith("\t... "))) {
                continue;
            }
            skipping = false;
            kept.append(line).append('\n');
        }
        return kept.toString();
    }
}
