package io.quarkiverse.busaltconnection.runtime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * Each of the Odoo module's variables takes effect on its own, through the same environment source Quarkus uses; the
 * deployment test shows the whole application reading them.
 */
class SeedEnvironmentVariablesTest {

    private static final String HOST = "quarkus.imdispatcher.db-host";
    private static final String PORT = "quarkus.imdispatcher.db-port";

    @Test
    void theSeedPortAloneSetsThePort() {
        SmallRyeConfig config = config(Map.of("IMDISPATCHER_DB_PORT", "6543"), Map.of());
        assertEquals(Optional.of("6543"), config.getOptionalValue(PORT, String.class));
        assertTrue(config.getOptionalValue(HOST, String.class).isEmpty());
    }

    @Test
    void theSeedHostAloneSetsTheHost() {
        SmallRyeConfig config = config(Map.of("IMDISPATCHER_DB_HOST", "db.internal"), Map.of());
        assertEquals(Optional.of("db.internal"), config.getOptionalValue(HOST, String.class));
        assertTrue(config.getOptionalValue(PORT, String.class).isEmpty());
    }

    @Test
    void anEnvironmentVariableWinsOverApplicationProperties() {
        SmallRyeConfig config = config(Map.of("IMDISPATCHER_DB_PORT", "6543"), Map.of(PORT, "5432"));
        assertEquals(Optional.of("6543"), config.getOptionalValue(PORT, String.class));
    }

    @Test
    void quarkussOwnNameWinsOverTheSeedsAtTheSamePriority() {
        SmallRyeConfig config = config(Map.of("IMDISPATCHER_DB_PORT", "6543", "QUARKUS_IMDISPATCHER_DB_PORT", "7000"),
                Map.of());
        assertEquals(Optional.of("7000"), config.getOptionalValue(PORT, String.class));
    }

    @Test
    void withoutTheVariablesApplicationPropertiesApply() {
        SmallRyeConfig config = config(Map.of(), Map.of(HOST, "from-properties", PORT, "5432"));
        assertEquals(Optional.of("from-properties"), config.getOptionalValue(HOST, String.class));
        assertEquals(Optional.of("5432"), config.getOptionalValue(PORT, String.class));
    }

    /** The environment at Quarkus's ordinal (300), application.properties at its (250). */
    private static SmallRyeConfig config(Map<String, String> environment, Map<String, String> properties) {
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder()
                .withSources(new EnvConfigSource(environment, 300))
                .withSources(new PropertiesConfigSource(properties, "application.properties", 250));
        return new SeedEnvironmentVariables().configBuilder(builder).build();
    }
}
