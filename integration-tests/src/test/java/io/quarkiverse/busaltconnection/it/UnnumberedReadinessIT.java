package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * A sequencer that cannot write (here a trigger refuses its UPDATE): committed messages wait for their positions,
 * and after {@code quarkus.imdispatcher.bus.unnumbered-timeout} readiness is DOWN saying so; once the sequencer
 * writes again, the messages are numbered and readiness is UP.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class UnnumberedReadinessIT {

    @Test
    void messagesWaitingForAPositionMakeReadinessDown() throws Exception {
        int port = AppProcess.freePort();
        try (FreshDatabase database = new FreshDatabase("unnumbered")) {
            Map<String, String> config = database.appConfig(port);
            config.put("quarkus.imdispatcher.bus.unnumbered-timeout", "2s");
            try (AppProcess app = AppProcess.start(config)) {
                app.awaitHttp(port, "/q/health/ready");
                HttpClient client = HttpClient.newHttpClient();
                try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
                    statement.execute("CREATE FUNCTION refuse_numbering() RETURNS trigger LANGUAGE plpgsql AS"
                            + " $$BEGIN RAISE EXCEPTION 'the sequencer may not write'; END$$");
                    statement.execute("CREATE TRIGGER refuse_numbering BEFORE INSERT ON imdispatcher_bus_positions"
                            + " FOR EACH ROW EXECUTE FUNCTION refuse_numbering()");
                }
                assertEquals(204, client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                        + "/bus/send/greetings")).header("Content-Type", "text/plain")
                        .POST(HttpRequest.BodyPublishers.ofString("waits")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode());
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    HttpResponse<String> ready = readiness(client, port);
                    return ready.statusCode() == 503 && ready.body().contains("waited")
                            && ready.body().contains("unnumbered-timeout");
                });
                try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
                    statement.execute("DROP TRIGGER refuse_numbering ON imdispatcher_bus_positions");
                }
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                        .until(() -> readiness(client, port).statusCode() == 200);
                try (Connection connection = database.connect();
                        Statement statement = connection.createStatement();
                        ResultSet unnumbered = statement.executeQuery(
                                "SELECT count(*) FROM imdispatcher_bus b WHERE " + BusRows.UNNUMBERED)) {
                    unnumbered.next();
                    assertEquals(0, unnumbered.getInt(1));
                }
            }
        }
    }

    private static HttpResponse<String> readiness(HttpClient client, int port) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
