package io.quarkiverse.busaltconnection.deployment;

import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The bus's Micrometer meters.
 */
@ConfigMapping(prefix = "quarkus.imdispatcher.metrics")
@ConfigRoot(phase = ConfigPhase.BUILD_TIME)
public interface ImDispatcherMetricsBuildConfig {

    /**
     * Whether the bus registers its meters (`imdispatcher.*`, and the PgBouncer gauges when
     * `quarkus.imdispatcher.pgbouncer.*` is set), when the application has Micrometer.
     */
    @WithDefault("true")
    boolean enabled();
}
