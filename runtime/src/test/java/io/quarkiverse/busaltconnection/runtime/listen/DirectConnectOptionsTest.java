package io.quarkiverse.busaltconnection.runtime.listen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import org.eclipse.microprofile.config.Config;
import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

/**
 * Where the direct connection goes: quarkus.imdispatcher.* first, the default datasource's settings for the rest.
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
        assertEquals(SslMode.DISABLE, options.getSslMode());
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

    /** Splits the properties the way Quarkus does: quarkus.imdispatcher.* to the mapping, the rest to the config. */
    private static PgConnectOptions resolve(Map<String, String> properties) {
        Map<String, String> own = new HashMap<>();
        properties.forEach((key, value) -> {
            if (key.startsWith("quarkus.imdispatcher.")) {
                own.put(key.substring("quarkus.imdispatcher.".length()), value);
            }
        });
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(new HashMap<>(properties), "test", 100))
                .build();
        return DirectConnectOptions.resolve(new TestConfig(own), (Config) config);
    }

    private record TestConfig(Map<String, String> values) implements ImDispatcherConfig {

        @Override
        public Optional<String> dbHost() {
            return Optional.ofNullable(values.get("db-host"));
        }

        @Override
        public OptionalInt dbPort() {
            return values.containsKey("db-port") ? OptionalInt.of(Integer.parseInt(values.get("db-port")))
                    : OptionalInt.empty();
        }

        @Override
        public Optional<String> dbName() {
            return Optional.ofNullable(values.get("db-name"));
        }

        @Override
        public Optional<String> username() {
            return Optional.ofNullable(values.get("username"));
        }

        @Override
        public Optional<String> password() {
            return Optional.ofNullable(values.get("password"));
        }

        @Override
        public Optional<SslMode> sslMode() {
            return Optional.ofNullable(values.get("ssl-mode")).map(SslMode::of);
        }

        @Override
        public String applicationName() {
            return values.getOrDefault("application-name", "imdispatcher");
        }

        @Override
        public Duration connectTimeout() {
            return Duration.ofSeconds(10);
        }

        @Override
        public Reconnect reconnect() {
            throw new UnsupportedOperationException();
        }

        @Override
        public DirectClient client() {
            throw new UnsupportedOperationException();
        }

        @Override
        public BusStore bus() {
            throw new UnsupportedOperationException();
        }
    }
}
