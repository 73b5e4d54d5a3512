package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The database's history changes under a running instance: PostgreSQL is replaced by an earlier physical copy of
 * itself (the same system, the same database oid, the last commits gone), once as a restored backup on the same
 * timeline, once as a promoted asynchronous standby on a new one; or the epoch changes. The instance says so once per
 * change at ERROR and goes on: every message sent afterwards reaches the listener and the durable group, and an HTTP
 * client with a cursor of the old history is told to reload.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class EpochChangeIT {

    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void anEarlierCopyOfTheDatabaseUnderTheInstanceLosesNothingSentAfterwards() throws Exception {
        int port = AppProcess.freePort();
        try (FreshDatabase database = new FreshDatabase("regress");
                AppProcess app = AppProcess.start(database.appConfig(port))) {
            app.awaitHttp(port, "/q/health/ready");
            String run = "copy" + System.nanoTime();
            sendBoth(port, run + ":before-", 10);
            await().atMost(Duration.ofSeconds(20)).until(() -> received(port, run).size() == 10
                    && ledger(database, run).size() == 10);
            DevPostgres postgres;
            try (Connection connection = database.connect()) {
                postgres = DevPostgres.of(connection);
            }
            // The copy: taken while the server is down, so that it starts as a backup restored does.
            postgres.stop();
            Path copy = postgres.copy("data-earlier-copy");
            postgres.start();
            // The commits the copy will not have, seen by the instance (listener, group and head) before it is put back.
            sendBoth(port, run + ":lost-", 15);
            await().atMost(Duration.ofSeconds(30)).until(() -> received(port, run).size() == 25
                    && ledger(database, run).size() == 25);
            String oldCursor = get(port, "/bus/listener").replaceAll(".*\"epoch\":(\\d+).*", "$1") + "-"
                    + head(database);
            postgres.stop();
            postgres.restore(copy);
            postgres.start();
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> ledger(database, run) != null);
            assertEquals(10, ledger(database, run).size(), "the copy put back is not the earlier one");

            sendBoth(port, run + ":after-", 10);
            awaitDeliveredInOrder(port, database, run + ":after-", 10);
            // A long-poll with a cursor of the old history is told to reload.
            String answer = post(port, "/imdispatcher/poll", "{\"channels\": [\"public.any\"], \"last\": \""
                    + oldCursor + "\"}");
            assertTrue(answer.contains("\"reload\":true"), answer);
            String output = app.output();
            assertEquals(1, historyErrors(output), output);
            assertTrue(output.contains("the head went back from"), output);

            // A failover to an asynchronous standby that had not received the last commits: a new timeline.
            Map<String, String> dev = DevServicesProperties.get();
            Path standby = postgres.standby("data-standby", Integer.parseInt(dev.get("quarkus.imdispatcher.db-port")),
                    dev.get("quarkus.datasource.username"), dev.get("quarkus.datasource.password"));
            sendBoth(port, run + ":unreplicated-", 10);
            awaitDeliveredInOrder(port, database, run + ":unreplicated-", 10);
            postgres.stop();
            postgres.restore(standby);
            // Without hot standby no session reaches it before it is promoted, as behind a failover's new address.
            postgres.start("hot_standby=off");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> {
                        postgres.promote();
                        return true;
                    });
            assertEquals(20, ledger(database, run).size(), "the standby promoted had the commits it should miss");
            sendBoth(port, run + ":promoted-", 10);
            awaitDeliveredInOrder(port, database, run + ":promoted-", 10);
            // The look at the server's identity answers after the reconnection's first reads, which may deliver first.
            await().atMost(Duration.ofSeconds(10)).until(() -> app.output().contains(
                    "PostgreSQL moved from timeline 1 to 2"));
            output = app.output();
            assertEquals(2, historyErrors(output), output);

            // Then another epoch, started elsewhere, is taken up too (in the same application, to start it once).
            try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
                statement.execute("UPDATE imdispatcher_bus_state SET epoch = epoch + 1, epoch_base = last_position");
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> app.output().contains("is in another epoch"));
            send(port, "greetings", run + ":new-epoch");
            await().atMost(Duration.ofSeconds(20)).until(() -> received(port, run).contains(run + ":new-epoch"));
            assertEquals(3, historyErrors(app.output()), app.output());
            // PostgreSQL went away four times: said in WARN lines, without a stack trace or another ERROR.
            List<String> noise = app.output().lines().filter(line -> line.startsWith("\tat ")
                    || (line.contains(" ERROR ") && !line.contains("changed while this instance ran"))).toList();
            assertEquals(List.of(), noise, app.output());
        }
    }

    /**
     * Waits until the greetings listener and the ledger group have each received {@code <prefix><i>} for i below
     * {@code count}, and checks that they received each once, in order.
     */
    private void awaitDeliveredInOrder(int port, FreshDatabase database, String prefix, int count) throws Exception {
        List<String> expected = IntStream.range(0, count).mapToObj(i -> prefix + i).toList();
        await().atMost(Duration.ofSeconds(30)).until(() -> received(port, prefix).size() >= count
                && ledger(database, prefix).size() >= count);
        assertEquals(expected, received(port, prefix), "the listener missed, doubled or reordered messages");
        assertEquals(expected, ledger(database, prefix), "the group missed, doubled or reordered messages");
    }

    /**
     * Sends {@code <prefix><i>} for i below {@code count} to the greetings listener and to the ledger group, each
     * one again until it is accepted: right after PostgreSQL starts, the pooled connections find their server gone.
     */
    private void sendBoth(int port, String prefix, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            for (String channel : List.of("greetings", Ledger.CHANNEL)) {
                String payload = prefix + i;
                await().atMost(Duration.ofSeconds(60)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(200))
                        .until(() -> trySend(port, channel, payload) == 204);
            }
        }
    }

    /** The ERROR lines that say the history changed: one per change. */
    private static long historyErrors(String output) {
        return output.lines().filter(line -> line.contains(" ERROR ") && line.contains("changed while this instance"
                + " ran")).count();
    }

    private void send(int port, String channel, String payload) throws Exception {
        assertEquals(204, trySend(port, channel, payload));
    }

    private int trySend(int port, String channel, String payload) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/bus/send/" + channel))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(payload)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private String get(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private String post(int port, String path, String json) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** What the greetings listener received of this run, payloads only, in order. */
    private List<String> received(int port, String run) throws Exception {
        String body = get(port, "/bus/received/greetings");
        return java.util.Arrays.stream(body.replace("[", "").replace("]", "").split(","))
                .map(entry -> entry.replace("\"", "").trim()).filter(entry -> entry.startsWith(run))
                .map(entry -> entry.substring(0, entry.indexOf('@'))).toList();
    }

    private static List<String> ledger(FreshDatabase database, String prefix) throws Exception {
        List<String> rows = new java.util.ArrayList<>();
        try (Connection connection = database.connect();
                PreparedStatement select = connection.prepareStatement("SELECT payload FROM ledger_entries WHERE"
                        + " payload LIKE ? ORDER BY position")) {
            select.setString(1, prefix + "%");
            try (ResultSet result = select.executeQuery()) {
                while (result.next()) {
                    rows.add(result.getString(1));
                }
            }
        }
        return rows;
    }

    private static long head(FreshDatabase database) throws Exception {
        try (Connection connection = database.connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT last_position FROM imdispatcher_bus_state")) {
            result.next();
            return result.getLong(1);
        }
    }
}
