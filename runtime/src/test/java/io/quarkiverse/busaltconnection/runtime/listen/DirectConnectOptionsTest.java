package io.quarkiverse.busaltconnection.runtime.listen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.quarkiverse.busaltconnection.runtime.config.DataSourceSettings;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

/**
 * Where the direct connection goes: quarkus.imdispatcher.* first, the bus's datasource's settings for the rest; and
 * how it does TLS.
 */
class DirectConnectOptionsTest {

    @Test
    void everythingFallsBackToTheDatasource() {
        PgConnectOptions options = resolve(Map.of(
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://pgbouncer.internal:6432/shop?sslmode=require",
                "quarkus.datasource.username", "shop",
                "quarkus.datasource.password", "pw"));
        assertEquals("pgbouncer.internal", options.getHost());
        assertEquals(6432, options.getPort());
        assertEquals("shop", options.getDatabase());
        assertEquals("shop", options.getUser());
        assertEquals("pw", options.getPassword());
        assertEquals(SslMode.REQUIRE, options.getSslMode());
        assertEquals("imdispatcher", options.getProperties().get("application_name"));
    }

    @Test
    void aUrlThatIsNotPostgresqlIsQuotedWithoutItsPassword() {
        IllegalStateException failure = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> resolve(Map.of("quarkus.datasource.jdbc.url",
                        "jdbc:mysql://db:3306/app?user=app&password=hunter2")));
        assertFalse(failure.getMessage().contains("hunter2"), failure.getMessage());
        assertTrue(failure.getMessage().contains("password=***"), failure.getMessage());
    }

    @Test
    void ownKeysWin() {
        PgConnectOptions options = resolve(Map.of(
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://pgbouncer.internal:6432/shop",
                "quarkus.datasource.username", "shop",
                "quarkus.imdispatcher.db-host", "primary.internal",
                "quarkus.imdispatcher.db-port", "5433",
                "quarkus.imdispatcher.db-name", "events",
                "quarkus.imdispatcher.username", "listener",
                "quarkus.imdispatcher.ssl-mode", "verify-full",
                "quarkus.imdispatcher.application-name", "shop-listener"));
        assertEquals("primary.internal", options.getHost());
        assertEquals(5433, options.getPort());
        assertEquals("events", options.getDatabase());
        assertEquals("listener", options.getUser());
        assertEquals(SslMode.VERIFY_FULL, options.getSslMode());
        assertEquals("shop-listener", options.getProperties().get("application_name"));
    }

    @Test
    void multiHostUrlGivesItsFirstHostAndDefaultPort() {
        PgConnectOptions options = resolve(Map.of(
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://a.internal,b.internal:6000/shop?user=u"));
        assertEquals("a.internal", options.getHost());
        assertEquals(5432, options.getPort());
        assertEquals("u", options.getUser());
        // Nothing said about TLS: prefer it, as pgjdbc does.
        assertEquals(SslMode.PREFER, options.getSslMode());
    }

    @Test
    void sslTrueInTheUrlVerifiesTheServerAsPgjdbcDoes() {
        PgConnectOptions options = resolve(Map.of(
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://db/shop?ssl=true"));
        assertEquals(SslMode.VERIFY_FULL, options.getSslMode());
        PgConnectOptions explicit = resolve(Map.of(
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://db/shop?ssl=true&sslmode=require"));
        assertEquals(SslMode.REQUIRE, explicit.getSslMode());
    }

    @Test
    void noHostAnywhereNamesTheKeysToSet() {
        IllegalStateException error = assertThrows(IllegalStateException.class, () -> resolve(Map.of()));
        assertTrue(error.getMessage().contains("quarkus.imdispatcher.db-host"), error.getMessage());
        assertTrue(error.getMessage().contains("quarkus.datasource.jdbc.url"), error.getMessage());
    }

    @Test
    void describeNeverShowsThePassword() {
        PgConnectOptions options = resolve(Map.of("quarkus.imdispatcher.db-host", "h",
                "quarkus.imdispatcher.db-name", "d", "quarkus.imdispatcher.username", "u",
                "quarkus.imdispatcher.password", "hunter2"));
        String described = DirectConnectOptions.describe(options);
        assertEquals("h:5432/d as user u", described);
        assertFalse(described.contains("hunter2"));
    }

    @Test
    void verifyFullChecksTheHostNameAgainstTheJvmsCasByDefault() {
        PgConnectOptions options = resolve(Map.of("quarkus.datasource.jdbc.url",
                "jdbc:postgresql://db/shop?sslmode=verify-full"));
        assertEquals("HTTPS", options.getHostnameVerificationAlgorithm());
        assertFalse(options.isTrustAll());
        assertTrue(options.getTrustOptions() != null, "verify-full needs something to trust");
    }

    @Test
    void verifyCaTrustsTheUrlsRootCertificateWithoutCheckingTheHostName(@TempDir Path directory) throws Exception {
        Path ca = Files.writeString(directory.resolve("root.crt"), "-----BEGIN CERTIFICATE-----\n");
        PgConnectOptions options = resolve(Map.of("quarkus.datasource.jdbc.url",
                "jdbc:postgresql://db/shop?sslmode=verify-ca&sslrootcert=" + ca));
        assertTrue(options.getTrustOptions() instanceof PemTrustOptions pem && pem.getCertPaths().contains(
                ca.toString()), String.valueOf(options.getTrustOptions()));
        assertTrue(options.getHostnameVerificationAlgorithm() == null
                || options.getHostnameVerificationAlgorithm().isEmpty());
    }

    @Test
    void aMissingRootCertificateNamesTheParameter() {
        IllegalStateException error = assertThrows(IllegalStateException.class, () -> resolve(Map.of(
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://db/shop?sslmode=verify-ca&sslrootcert=/nowhere.crt")));
        assertTrue(error.getMessage().contains("sslrootcert '/nowhere.crt'"), error.getMessage());
    }

    @Test
    void requireEncryptsWithoutChecking() {
        PgConnectOptions options = resolve(Map.of("quarkus.datasource.jdbc.url", "jdbc:postgresql://db/shop",
                "quarkus.imdispatcher.ssl-mode", "require"));
        assertTrue(options.isTrustAll());
    }

    @Test
    void aNamedDatasourceIsNamedInMessages() {
        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> DirectConnectOptions.resolve(config(Map.of()), new DataSourceSettings("bus", Optional.empty(),
                        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()), Optional.empty()));
        assertTrue(error.getMessage().contains("quarkus.datasource.\"bus\".jdbc.url"), error.getMessage());
    }

    /** Splits the properties as Quarkus does: quarkus.imdispatcher.* to the mapping, the datasource's to its own. */
    private static PgConnectOptions resolve(Map<String, String> properties) {
        Map<String, String> own = new HashMap<>();
        properties.forEach((key, value) -> {
            if (key.startsWith("quarkus.imdispatcher.")) {
                own.put(key.substring("quarkus.imdispatcher.".length()), value);
            }
        });
        DataSourceSettings dataSource = new DataSourceSettings("<default>",
                Optional.ofNullable(properties.get("quarkus.datasource.jdbc.url")),
                Optional.ofNullable(properties.get("quarkus.datasource.username")),
                Optional.ofNullable(properties.get("quarkus.datasource.password")), Optional.empty(), Optional.empty());
        return DirectConnectOptions.resolve(config(own), dataSource, Optional.empty());
    }

    /** The connection keys from a map; every other key is no business of the code under test. */
    private static ImDispatcherConfig config(Map<String, String> values) {
        return (ImDispatcherConfig) Proxy.newProxyInstance(ImDispatcherConfig.class.getClassLoader(),
                new Class<?>[] { ImDispatcherConfig.class }, (proxy, method, args) -> switch (method.getName()) {
                    case "dbHost" -> Optional.ofNullable(values.get("db-host"));
                    case "dbPort" -> values.containsKey("db-port")
                            ? OptionalInt.of(Integer.parseInt(values.get("db-port")))
                            : OptionalInt.empty();
                    case "dbName" -> Optional.ofNullable(values.get("db-name"));
                    case "username" -> Optional.ofNullable(values.get("username"));
                    case "password" -> Optional.ofNullable(values.get("password"));
                    case "sslMode" -> Optional.ofNullable(values.get("ssl-mode")).map(SslMode::of);
                    case "tlsConfigurationName", "credentialsProvider", "credentialsProviderName" -> Optional.empty();
                    case "applicationName" -> values.getOrDefault("application-name", "imdispatcher");
                    case "connectTimeout" -> Duration.ofSeconds(10);
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
