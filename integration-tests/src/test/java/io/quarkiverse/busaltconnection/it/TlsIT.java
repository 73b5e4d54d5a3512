package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The listener over TLS with {@code verify-full}, its trust from a Quarkus TLS registry configuration: PostgreSQL
 * gets a certificate from a CA made here with openssl (put in its data directory, enabled by a reload; so this test
 * needs the local Dev Services of this machine),
 * the packaged application listens over TLS and delivers; trusting another CA, it refuses to start and says why.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class TlsIT {

    @TempDir
    static Path certificates;

    @BeforeAll
    static void serverSpeaksTls() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Bus test CA",
                "-keyout", "ca.key", "-out", "ca.crt");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Another CA",
                "-keyout", "other-ca.key", "-out", "other-ca.crt");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
                "-out", "server.csr");
        Files.writeString(certificates.resolve("server.ext"),
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", "server.ext", "-out", "server.crt");
        // The same trusted CA, the same key, but issued to another host: verify-full must refuse it.
        Files.writeString(certificates.resolve("elsewhere.ext"),
                "subjectAltName=DNS:elsewhere.invalid\nbasicConstraints=CA:FALSE\n");
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", "elsewhere.ext", "-out", "elsewhere.crt");
        try (Connection connection = superuser(); Statement statement = connection.createStatement()) {
            // Into the data directory, owned by the server's user, the key readable by it alone, as PostgreSQL asks.
            Path data = Path.of(dataDirectory(statement));
            serverFile(data, "bus-tls-server.crt", certificates.resolve("server.crt"));
            serverFile(data, "bus-tls-server.key", certificates.resolve("server.key"));
            statement.execute("ALTER SYSTEM SET ssl_cert_file = 'bus-tls-server.crt'");
            statement.execute("ALTER SYSTEM SET ssl_key_file = 'bus-tls-server.key'");
            statement.execute("ALTER SYSTEM SET ssl = on");
            statement.execute("SELECT pg_reload_conf()");
        }
        await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> {
            try (Connection tls = DriverManager.getConnection(directUrl("postgres") + "?sslmode=require",
                    dev("quarkus.datasource.username"), dev("quarkus.datasource.password"))) {
                return true;
            }
        });
    }

    @AfterAll
    static void serverSpeaksClearAgain() throws SQLException {
        try (Connection connection = superuser(); Statement statement = connection.createStatement()) {
            statement.execute("ALTER SYSTEM RESET ssl");
            statement.execute("ALTER SYSTEM RESET ssl_cert_file");
            statement.execute("ALTER SYSTEM RESET ssl_key_file");
            statement.execute("SELECT pg_reload_conf()");
        }
    }

    @Test
    void verifyFullWithTheRegistrysTrustStoreListensOverTls() throws Exception {
        int port = AppProcess.freePort();
        Map<String, String> config = appConfig(port, certificates.resolve("ca.crt"));
        try (AppProcess app = AppProcess.start(config)) {
            app.awaitHttp(port, "/q/health/ready");
            String base = "http://localhost:" + port;
            HttpClient client = HttpClient.newHttpClient();
            String listener = client.send(HttpRequest.newBuilder(URI.create(base + "/bus/listener")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher pid = Pattern.compile("\"backendPid\":(\\d+)").matcher(listener);
            assertTrue(pid.find(), listener);
            try (Connection connection = superuser();
                    PreparedStatement ssl = connection.prepareStatement("SELECT ssl FROM pg_stat_ssl WHERE pid = ?")) {
                ssl.setInt(1, Integer.parseInt(pid.group(1)));
                try (ResultSet row = ssl.executeQuery()) {
                    assertTrue(row.next() && row.getBoolean(1), "the listening connection does not use TLS");
                }
            }
            client.send(HttpRequest.newBuilder(URI.create(base + "/bus/send/greetings"))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("over-tls"))
                    .build(), HttpResponse.BodyHandlers.discarding());
            await().atMost(Duration.ofSeconds(15)).until(() -> client.send(HttpRequest.newBuilder(
                    URI.create(base + "/bus/received/greetings")).build(), HttpResponse.BodyHandlers.ofString())
                    .body().contains("over-tls@greetings#"));
            assertFalse(app.output().contains(" ERROR "), app.output());
        }
    }

    @Test
    void aServerCertificateFromAnotherCaFailsStartupSayingWhatToCheck() throws Exception {
        int port = AppProcess.freePort();
        Map<String, String> config = appConfig(port, certificates.resolve("other-ca.crt"));
        try (AppProcess app = AppProcess.start(config)) {
            assertTrue(app.process.waitFor(60, TimeUnit.SECONDS), "the application did not stop:\n" + app.output());
            assertNotEquals(0, app.process.exitValue());
            String output = app.output();
            assertTrue(output.contains("could not reach PostgreSQL at "), output);
            assertTrue(output.contains("The server's certificate was not accepted"), output);
            assertTrue(output.contains("quarkus.imdispatcher.tls-configuration-name"), output);
        }
    }

    @Test
    void aTrustedCertificateForAnotherHostFailsStartup() throws Exception {
        useServerCertificate("elsewhere.crt");
        try {
            int port = AppProcess.freePort();
            Map<String, String> config = appConfig(port, certificates.resolve("ca.crt"));
            try (AppProcess app = AppProcess.start(config)) {
                assertTrue(app.process.waitFor(60, TimeUnit.SECONDS), "the application started with a certificate"
                        + " for another host:\n" + app.output());
                assertNotEquals(0, app.process.exitValue());
                String output = app.output();
                assertTrue(output.contains("could not reach PostgreSQL at "), output);
                assertTrue(output.contains("The server's certificate was not accepted"), output);
            }
        } finally {
            useServerCertificate("server.crt");
        }
    }

    @Test
    void preferUsesTlsWhereTheServerOffersIt() throws Exception {
        int port = AppProcess.freePort();
        try (AppProcess app = AppProcess.start(preferConfig(port))) {
            app.awaitHttp(port, "/q/health/ready");
            assertEquals(true, usesTls(listenerPid(port)), "the listening connection does not use TLS");
            everyDirectSocketHasABackend(app);
            assertFalse(app.output().contains(" ERROR "), app.output());
        }
    }

    /**
     * Vert.x's own {@code prefer} leaves the socket of its refused TLS request open, and the server a backend that
     * waits for a startup packet until its authentication timeout, one per connection made: the extension asks first,
     * on a socket it closes.
     */
    @Test
    void preferWithoutTlsOnTheServerLeavesNoHalfOpenConnection() throws Exception {
        serverTls(false);
        try {
            int port = AppProcess.freePort();
            try (AppProcess app = AppProcess.start(preferConfig(port))) {
                app.awaitHttp(port, "/q/health/ready");
                int first = listenerPid(port);
                assertEquals(false, usesTls(first), "the listening connection uses TLS on a server without it");
                everyDirectSocketHasABackend(app);
                // A reconnect uses the answer already given, and leaves nothing half open either.
                try (Connection connection = superuser(); Statement statement = connection.createStatement()) {
                    statement.execute("SELECT pg_terminate_backend(" + first + ")");
                }
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> listenerPid(port) != first
                        && usesTls(listenerPid(port)) != null);
                everyDirectSocketHasABackend(app);
                assertFalse(app.output().contains(" ERROR "), app.output());
            }
        } finally {
            serverTls(true);
        }
    }

    private static Map<String, String> preferConfig(int port) {
        Map<String, String> config = new HashMap<>(DevServicesProperties.get());
        config.put("quarkus.http.port", String.valueOf(port));
        config.put("quarkus.imdispatcher.ssl-mode", "prefer");
        return config;
    }

    private static int listenerPid(int port) throws Exception {
        String listener = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                + "/bus/listener")).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher pid = Pattern.compile("\"backendPid\":(\\d+)").matcher(listener);
        assertTrue(pid.find(), listener);
        return Integer.parseInt(pid.group(1));
    }

    /** Whether backend {@code pid} speaks TLS; null if there is no such backend. */
    private static Boolean usesTls(int pid) throws SQLException {
        try (Connection connection = superuser();
                PreparedStatement ssl = connection.prepareStatement("SELECT ssl FROM pg_stat_ssl WHERE pid = ?")) {
            ssl.setInt(1, pid);
            try (ResultSet row = ssl.executeQuery()) {
                return row.next() ? row.getBoolean(1) : null;
            }
        }
    }

    /**
     * Each connection the application holds to PostgreSQL's port is a backend past its startup (in
     * {@code pg_stat_activity}). A half-open one stays for the server's authentication timeout (a minute); a connection
     * in the middle of its startup is done within a few seconds.
     */
    private static void everyDirectSocketHasABackend(AppProcess app) {
        int postgres = Integer.parseInt(dev("quarkus.imdispatcher.db-port"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            Set<Integer> sockets = OpenSockets.localPortsTo(app.process.pid(), postgres);
            Set<Integer> backends = new TreeSet<>();
            try (Connection connection = superuser();
                    PreparedStatement ports = connection.prepareStatement("SELECT client_port FROM pg_stat_activity"
                            + " WHERE client_port = ANY (?)")) {
                ports.setArray(1, connection.createArrayOf("int4", sockets.toArray()));
                try (ResultSet rows = ports.executeQuery()) {
                    while (rows.next()) {
                        backends.add(rows.getInt(1));
                    }
                }
            }
            assertFalse(sockets.isEmpty(), "the application holds no connection to PostgreSQL");
            assertEquals(sockets, backends, "connections of the application to PostgreSQL (local ports) that have no"
                    + " backend past its startup");
        });
    }

    /** Turns TLS on or off in PostgreSQL, and waits until a new connection sees it. */
    private static void serverTls(boolean on) throws Exception {
        try (Connection connection = superuser(); Statement statement = connection.createStatement()) {
            statement.execute("ALTER SYSTEM SET ssl = " + (on ? "on" : "off"));
            statement.execute("SELECT pg_reload_conf()");
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            try (Connection connection = superuser();
                    Statement statement = connection.createStatement();
                    ResultSet row = statement.executeQuery("SHOW ssl")) {
                return row.next() && row.getString(1).equals(on ? "on" : "off");
            }
        });
    }

    /** Puts {@code certificate} (for the one server key) in the data directory and reloads PostgreSQL. */
    private static void useServerCertificate(String certificate) throws Exception {
        try (Connection connection = superuser(); Statement statement = connection.createStatement()) {
            serverFile(Path.of(dataDirectory(statement)), "bus-tls-server.crt", certificates.resolve(certificate));
            statement.execute("SELECT pg_reload_conf()");
        }
        // The reload is asynchronous: wait until a new connection is served the certificate asked for.
        String expected = Files.readString(certificates.resolve(certificate));
        await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> servedCertificate().equals(
                certificateBody(expected)));
    }

    /** The certificate PostgreSQL serves a new connection now, as openssl sees it. */
    private static String servedCertificate() throws Exception {
        Process process = new ProcessBuilder("openssl", "s_client", "-starttls", "postgres", "-connect",
                dev("quarkus.imdispatcher.db-host") + ":" + dev("quarkus.imdispatcher.db-port"))
                .redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(10, TimeUnit.SECONDS), "openssl s_client did not end");
        return certificateBody(output);
    }

    /** The first PEM certificate in {@code text}, without white space; empty if there is none. */
    private static String certificateBody(String text) {
        int begin = text.indexOf("-----BEGIN CERTIFICATE-----");
        int end = begin < 0 ? -1 : text.indexOf("-----END CERTIFICATE-----", begin);
        return end < 0 ? "" : text.substring(begin, end).replaceAll("\\s", "");
    }

    private static Map<String, String> appConfig(int port, Path trustedCa) {
        Map<String, String> config = new HashMap<>(DevServicesProperties.get());
        config.put("quarkus.http.port", String.valueOf(port));
        // No ssl-mode (Dev Services set disable, for their servers without TLS): a named TLS configuration means
        // verify-full.
        config.remove("quarkus.imdispatcher.ssl-mode");
        config.put("quarkus.imdispatcher.tls-configuration-name", "bus-tls");
        config.put("quarkus.tls.bus-tls.trust-store.pem.certs", trustedCa.toString());
        assertEquals("127.0.0.1", config.get("quarkus.imdispatcher.db-host"), "the certificate names 127.0.0.1");
        return config;
    }

    private static void serverFile(Path dataDirectory, String name, Path source) throws IOException {
        Path file = Files.copy(source, dataDirectory.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        Files.setOwner(file, Files.getOwner(dataDirectory));
    }

    private static String dataDirectory(Statement statement) throws SQLException {
        try (ResultSet row = statement.executeQuery("SHOW data_directory")) {
            row.next();
            return row.getString(1);
        }
    }

    private static void openssl(String... arguments) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).directory(certificates.toFile()).redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes());
        assertEquals(0, process.waitFor(), String.join(" ", command) + "\n" + output);
    }

    private static Connection superuser() throws SQLException {
        return DriverManager.getConnection(directUrl("postgres"), dev("quarkus.datasource.username"),
                dev("quarkus.datasource.password"));
    }

    private static String directUrl(String database) {
        return "jdbc:postgresql://" + dev("quarkus.imdispatcher.db-host") + ":" + dev("quarkus.imdispatcher.db-port")
                + "/" + database;
    }

    private static String dev(String key) {
        return DevServicesProperties.get().get(key);
    }
}
