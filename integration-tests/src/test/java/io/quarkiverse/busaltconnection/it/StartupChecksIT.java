package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.postgresql.Driver;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The packaged application refuses to start, within seconds and naming the key to fix, when its listener would
 * hear nothing: pointed at PgBouncer, or at a standby.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class StartupChecksIT {

    @Test
    void listenerPointedAtPgBouncerFailsStartupNamingTheKey() throws Exception {
        Properties pooled = Driver.parseURL(DevServicesProperties.get().get("quarkus.datasource.jdbc.url"), null);
        String output = failedStartup(Map.of("quarkus.imdispatcher.db-port", pooled.getProperty("PGPORT")));
        assertTrue(output.contains("through a connection pooler"), output);
        assertTrue(output.contains("quarkus.imdispatcher.db-host and quarkus.imdispatcher.db-port"), output);
    }

    @Test
    void listenerPointedAtAStandbyFailsStartupNamingTheKey() throws Exception {
        Map<String, String> dev = DevServicesProperties.get();
        String primary = "jdbc:postgresql://127.0.0.1:" + dev.get("quarkus.imdispatcher.db-port") + "/postgres";
        Path primaryData;
        try (Connection connection = DriverManager.getConnection(primary, dev.get("quarkus.datasource.username"),
                dev.get("quarkus.datasource.password"));
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SHOW data_directory")) {
            result.next();
            primaryData = Path.of(result.getString(1));
        }
        Path bin = ServerProcesses.bindir();
        Path standby = Files.createTempDirectory("bus-standby-");
        Files.setOwner(standby, Files.getOwner(primaryData));
        Process server = null;
        try {
            ServerProcesses.runAs(primaryData, List.of(bin.resolve("pg_basebackup").toString(), "-h", "127.0.0.1",
                    "-p", dev.get("quarkus.imdispatcher.db-port"), "-U", dev.get("quarkus.datasource.username"),
                    "-D", standby.resolve("data").toString(), "-R", "-X", "stream", "-c", "fast"),
                    Map.of("PGPASSWORD", dev.get("quarkus.datasource.password")));
            int port = AppProcess.freePort();
            server = ServerProcesses.start(primaryData, List.of(bin.resolve("postgres").toString(), "-D",
                    standby.resolve("data").toString(), "-p", String.valueOf(port), "-k", standby.toString(),
                    "-c", "listen_addresses=127.0.0.1"), Files.createTempFile("standby", ".log"));
            awaitStandby(port, dev);
            String output = failedStartup(Map.of("quarkus.imdispatcher.db-port", String.valueOf(port)));
            assertTrue(output.contains("a server in recovery (a standby or replica)"), output);
            assertTrue(output.contains("quarkus.imdispatcher.db-port at the primary"), output);
        } finally {
            ServerProcesses.stop(server);
            try (Stream<Path> files = Files.walk(standby)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    @Test
    void schemaManagementNoneWithoutTheTableFailsStartupSayingWhatToCreate() throws Exception {
        String output = failedStartup(Map.of("quarkus.imdispatcher.bus.schema-management", "none",
                "quarkus.imdispatcher.bus.table", "absent_" + Long.toHexString(System.nanoTime())));
        assertTrue(output.contains("cannot use its table 'public.absent_"), output);
        assertTrue(output.contains("quarkus.imdispatcher.bus.schema-management is none"), output);
    }

    @Test
    void aListenerInAnotherDatabaseFailsStartupNamingDbName() throws Exception {
        // The datasource sends in the application's database; the listener would listen in another one.
        String output = failedStartup(Map.of("quarkus.imdispatcher.db-name", "postgres"));
        assertTrue(output.contains("does not hear the application"), output);
        assertTrue(output.contains("db-name"), output);
    }

    @Test
    void aConnectionErrorLogsNoPassword() throws Exception {
        String pooled = DevServicesProperties.get().get("quarkus.datasource.jdbc.url");
        String output = failedStartup(Map.of(
                "quarkus.datasource.jdbc.url", pooled + "?password=url-s3cret-not-logged&sslpassword=ssl-s3cret-not-logged",
                "quarkus.imdispatcher.password", "own-s3cret-not-logged",
                // The direct path's error is under test: the bus does not ask the datasource (whose URL password
                // is wrong) for its schema first.
                "quarkus.imdispatcher.bus.schema", "public",
                "quarkus.imdispatcher.db-port", String.valueOf(AppProcess.freePort())));
        assertTrue(output.contains("could not reach PostgreSQL"), output);
        assertFalse(output.contains("s3cret-not-logged"), "a password in the log:\n" + output);
    }

    /** Starts the application with the Dev Services configuration plus {@code overrides}; it must fail. */
    private static String failedStartup(Map<String, String> overrides) throws Exception {
        Map<String, String> config = new HashMap<>(DevServicesProperties.get());
        config.putAll(overrides);
        config.put("quarkus.http.port", String.valueOf(AppProcess.freePort()));
        Instant start = Instant.now();
        try (AppProcess app = AppProcess.start(config)) {
            assertTrue(app.process.waitFor(60, TimeUnit.SECONDS), "the application is still running:\n"
                    + app.output());
            assertNotEquals(0, app.process.exitValue(), app.output());
            // Reported, not asserted: machines are noisy.
            System.out.printf("startup refused after %d ms%n", Duration.between(start, Instant.now()).toMillis());
            return app.output();
        }
    }

    private static void awaitStandby(int port, Map<String, String> dev) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (Instant.now().isBefore(deadline)) {
            try (Connection connection = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port
                    + "/postgres", dev.get("quarkus.datasource.username"), dev.get("quarkus.datasource.password"));
                    Statement statement = connection.createStatement();
                    ResultSet result = statement.executeQuery("SELECT pg_is_in_recovery()")) {
                result.next();
                if (result.getBoolean(1)) {
                    return;
                }
            } catch (SQLException e) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the standby did not come up");
    }
}
