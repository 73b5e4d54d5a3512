package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.postgresql.Driver;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The packaged application in prod mode, through PgBouncer, on a brand-new database: it creates its schema, its
 * scheduled jobs run (every second here), a message goes through, and the log holds no ERROR and no stack trace.
 */
@QuarkusIntegrationTest
@QuarkusTestResource(value = DevServicesProperties.class, restrictToAnnotatedClass = true)
class CleanFirstStartIT {

    @Test
    void aBrandNewDatabaseGivesAQuietStart() throws Exception {
        Map<String, String> dev = DevServicesProperties.get();
        String database = "fresh_" + Long.toHexString(System.nanoTime());
        String user = dev.get("quarkus.datasource.username");
        String password = dev.get("quarkus.datasource.password");
        try (Connection connection = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                + dev.get("quarkus.imdispatcher.db-port") + "/postgres", user, password);
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + database);
        }
        Properties pooled = Driver.parseURL(dev.get("quarkus.datasource.jdbc.url"), null);
        int port = AppProcess.freePort();
        Map<String, String> config = new HashMap<>(dev);
        config.put("quarkus.datasource.jdbc.url", "jdbc:postgresql://" + pooled.getProperty("PGHOST") + ":"
                + pooled.getProperty("PGPORT") + "/" + database);
        config.put("quarkus.imdispatcher.db-name", database);
        config.put("quarkus.http.port", String.valueOf(port));
        // Every job early and often: the first runs come while the application starts.
        config.put("quarkus.imdispatcher.bus.cleanup-interval", "1s");
        config.put("quarkus.imdispatcher.probe.interval", "1s");
        try (AppProcess app = AppProcess.start(config)) {
            app.awaitHttp(port, "/q/health/ready");
            String base = "http://localhost:" + port;
            HttpClient client = HttpClient.newHttpClient();
            client.send(HttpRequest.newBuilder(URI.create(base + "/bus/send/greetings"))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("first"))
                    .build(), HttpResponse.BodyHandlers.discarding());
            await().atMost(Duration.ofSeconds(15)).until(() -> client.send(HttpRequest.newBuilder(
                    URI.create(base + "/bus/received/greetings")).build(), HttpResponse.BodyHandlers.ofString())
                    .body().contains("first@greetings#"));
            // Past several runs of each scheduled job.
            Thread.sleep(3_000);
            String output = app.output();
            assertTrue(output.contains("Bus listener connected"), output);
            assertFalse(output.contains(" ERROR "), "an ERROR on a clean first start:\n" + output);
            assertFalse(output.contains("\tat "), "a stack trace on a clean first start:\n" + output);
        }
    }
}
