package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The bus table's epoch changes under a running instance (as when a restored copy replaces the table): the sweep
 * finds it, logs one ERROR saying to restart, and liveness is DOWN, since only a restart helps.
 */
@QuarkusIntegrationTest
@QuarkusTestResource(value = DevServicesProperties.class, restrictToAnnotatedClass = true)
class EpochChangeIT {

    @Test
    void anEpochChangeUnderTheInstanceMakesLivenessDown() throws Exception {
        int port = AppProcess.freePort();
        try (FreshDatabase database = new FreshDatabase("epoch")) {
            try (AppProcess app = AppProcess.start(database.appConfig(port))) {
                app.awaitHttp(port, "/q/health/ready");
                HttpClient client = HttpClient.newHttpClient();
                assertEquals(200, liveness(client, port).statusCode());
                try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
                    statement.execute("UPDATE imdispatcher_bus_state SET epoch = epoch + 1");
                }
                await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    HttpResponse<String> live = liveness(client, port);
                    return live.statusCode() == 503 && live.body().contains("restart to deliver from the new one");
                });
                // Once, although the sweep sees it every second.
                Thread.sleep(2_000);
                String output = app.output();
                long errors = output.lines().filter(line -> line.contains(" ERROR ")
                        && line.contains("changed its epoch while this instance ran")).count();
                assertEquals(1, errors, output);
                assertTrue(output.contains("restart the application"), output);
            }
        }
    }

    private static HttpResponse<String> liveness(HttpClient client, int port) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/live"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
