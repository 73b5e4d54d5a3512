package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The database's history changes under a running instance: the head goes back (as when an earlier copy of the
 * database replaces it: a promoted asynchronous standby, a restored backup), or the epoch changes. The instance says
 * so once at ERROR and goes on: every message sent afterwards reaches the listener and the durable group, and an HTTP
 * client with a cursor of the old history is told to reload.
 */
@QuarkusIntegrationTest
@QuarkusTestResource(value = DevServicesProperties.class, restrictToAnnotatedClass = true)
class EpochChangeIT {

    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void anEarlierCopyOfTheDatabaseUnderTheInstanceLosesNothingSentAfterwards() throws Exception {
        int port = AppProcess.freePort();
        try (FreshDatabase database = new FreshDatabase("regress");
                AppProcess app = AppProcess.start(database.appConfig(port))) {
            app.awaitHttp(port, "/q/health/ready");
            String run = "copy" + System.nanoTime();
            for (int i = 0; i < 10; i++) {
                send(port, "greetings", run + ":before-" + i);
                send(port, Ledger.CHANNEL, run + ":before-" + i);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> received(port, run).size() == 10
                    && ledger(database, run).size() == 10);
            String oldCursor = get(port, "/bus/listener").replaceAll(".*\"epoch\":(\\d+).*", "$1") + "-"
                    + head(database);
            // What an earlier copy of the database looks like: the last 15 positions never happened.
            try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
                long head = head(database);
                statement.execute("DELETE FROM imdispatcher_bus WHERE position > " + (head - 15));
                statement.execute("DELETE FROM ledger_entries WHERE position > " + (head - 15));
                statement.execute("UPDATE imdispatcher_bus_state SET last_position = " + (head - 15));
            }
            for (int i = 0; i < 10; i++) {
                send(port, "greetings", run + ":after-" + i);
                send(port, Ledger.CHANNEL, run + ":after-" + i);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> received(port, run).stream()
                    .filter(entry -> entry.contains(":after-")).count() == 10);
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9).stream().map(i -> run + ":after-" + i).toList(),
                    received(port, run).stream().filter(entry -> entry.contains(":after-")).toList(),
                    "the listener missed or reordered messages sent after the change");
            await().atMost(Duration.ofSeconds(30)).until(() -> ledger(database, run).stream()
                    .filter(entry -> entry.contains(":after-")).count() == 10);
            // A long-poll with a cursor of the old history is told to reload.
            String answer = post(port, "/imdispatcher/poll", "{\"channels\": [\"public.any\"], \"last\": \""
                    + oldCursor + "\"}");
            assertTrue(answer.contains("\"reload\":true"), answer);
            String output = app.output();
            assertEquals(1, historyErrors(output), output);
            assertTrue(output.contains("the head went back from"), output);

            // Then another epoch, started elsewhere, is taken up too (in the same application, to start it once).
            try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
                statement.execute("UPDATE imdispatcher_bus_state SET epoch = epoch + 1, epoch_base = last_position");
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> app.output().contains("is in another epoch"));
            send(port, "greetings", run + ":new-epoch");
            await().atMost(Duration.ofSeconds(20)).until(() -> received(port, run).contains(run + ":new-epoch"));
            assertEquals(2, historyErrors(app.output()), app.output());
        }
    }

    /** The ERROR lines that say the history changed: one per change. */
    private static long historyErrors(String output) {
        return output.lines().filter(line -> line.contains(" ERROR ") && line.contains("changed while this instance"
                + " ran")).count();
    }

    private void send(int port, String channel, String payload) throws Exception {
        HttpResponse<String> sent = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                + "/bus/send/" + channel)).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(payload)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(204, sent.statusCode(), sent.body());
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

    private static List<String> ledger(FreshDatabase database, String run) throws Exception {
        List<String> rows = new java.util.ArrayList<>();
        try (Connection connection = database.connect();
                PreparedStatement select = connection.prepareStatement("SELECT payload FROM ledger_entries WHERE"
                        + " payload LIKE ? ORDER BY position")) {
            select.setString(1, run + ":%");
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
