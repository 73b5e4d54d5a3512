package io.quarkiverse.busaltconnection.runtime.config;

import java.util.Map;

import io.quarkus.runtime.configuration.ConfigBuilder;
import io.smallrye.config.FallbackConfigSourceInterceptor;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * Reads {@code IMDISPATCHER_DB_HOST} and {@code IMDISPATCHER_DB_PORT}, the environment variables of the Odoo module
 * bus_alt_connection, as another name of {@code quarkus.imdispatcher.db-host} / {@code db-port}, so deployments
 * migrating from it keep their settings. When both names are set, the one from the higher-priority source wins (an
 * environment variable overrides application.properties, as everywhere in Quarkus); at equal priority, Quarkus's.
 */
public class SeedEnvironmentVariables implements ConfigBuilder {

    // Looking up "imdispatcher.db-host" reaches IMDISPATCHER_DB_HOST through the environment config source's
    // name mapping.
    private static final Map<String, String> FALLBACKS = Map.of(
            "quarkus.imdispatcher.db-host", "imdispatcher.db-host",
            "quarkus.imdispatcher.db-port", "imdispatcher.db-port");

    @Override
    public SmallRyeConfigBuilder configBuilder(SmallRyeConfigBuilder builder) {
        return builder.withInterceptors(
                new FallbackConfigSourceInterceptor(name -> FALLBACKS.getOrDefault(name, name)));
    }
}
