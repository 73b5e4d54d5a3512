package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.postgresql.Driver;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * A datasource whose JDBC URL sets {@code currentSchema}: the bus's table is created, written, numbered and read in
 * that schema, by an instance that sequences it although another instance (the one this test framework started)
 * sequences the table of the same name in {@code public}. Two schemas, two buses.
 * <p>
 * The datasource reaches PostgreSQL directly here: PgBouncer 1.18 refuses the {@code search_path} startup parameter
 * pgjdbc sends for {@code currentSchema} (or drops it, if told to ignore it).
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class CurrentSchemaIT {

    @Test
    void theBusLivesInTheDataSourcesSchema() throws Exception {
        Map<String, String> dev = DevServicesProperties.get();
        String schema = "bus_schema_" + Long.toHexString(System.nanoTime());
        String user = dev.get("quarkus.datasource.username");
        String password = dev.get("quarkus.datasource.password");
        String database = Driver.parseURL(dev.get("quarkus.datasource.jdbc.url"), null).getProperty("PGDBNAME");
        String direct = "jdbc:postgresql://127.0.0.1:" + dev.get("quarkus.imdispatcher.db-port") + "/" + database;
        try (Connection connection = DriverManager.getConnection(direct, user, password);
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE SCHEMA " + schema);
        }
        int port = AppProcess.freePort();
        Map<String, String> config = new HashMap<>(dev);
        config.put("quarkus.datasource.jdbc.url", direct + "?currentSchema=" + schema);
        config.put("quarkus.http.port", String.valueOf(port));
        try (AppProcess app = AppProcess.start(config)) {
            app.awaitHttp(port, "/q/health/ready");
            String base = "http://localhost:" + port;
            HttpClient client = HttpClient.newHttpClient();
            String payload = "in-schema-" + UUID.randomUUID();
            assertEquals(204, client.send(HttpRequest.newBuilder(URI.create(base + "/bus/send/greetings"))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(payload))
                    .build(), HttpResponse.BodyHandlers.discarding()).statusCode());
            await().atMost(Duration.ofSeconds(15)).until(() -> client.send(HttpRequest.newBuilder(
                    URI.create(base + "/bus/received/greetings")).build(), HttpResponse.BodyHandlers.ofString())
                    .body().contains(payload + "@greetings#"));
            try (Connection connection = DriverManager.getConnection(direct, user, password)) {
                assertEquals(1, count(connection, schema + ".imdispatcher_bus", payload));
                assertEquals(0, count(connection, "public.imdispatcher_bus", payload));
            }
            String output = app.output();
            assertTrue(output.contains("This instance sequences the bus '" + schema + ".imdispatcher_bus'"), output);
        } finally {
            try (Connection connection = DriverManager.getConnection(direct, user, password);
                    Statement statement = connection.createStatement()) {
                statement.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    private static int count(Connection connection, String table, String payload) throws Exception {
        try (PreparedStatement count = connection.prepareStatement(
                "SELECT count(*) FROM " + table + " b JOIN " + table + "_positions p ON p.xid = b.xid AND p.id = b.id"
                        + " WHERE b.payload = ?")) {
            count.setString(1, payload);
            try (ResultSet result = count.executeQuery()) {
                result.next();
                return result.getInt(1);
            }
        }
    }
}
