package io.quarkiverse.busaltconnection.deployment;

import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The listener's readiness check.
 */
@ConfigMapping(prefix = "quarkus.imdispatcher.health")
@ConfigRoot(phase = ConfigPhase.BUILD_TIME)
public interface ImDispatcherHealthBuildConfig {

    /**
     * Whether the readiness check "Bus Alt Connection listener" is published, when the application has SmallRye
     * Health: DOWN while the listening connection is down or its probes stop coming back, with details (server,
     * channels, last message, last probe, reconnections).
     */
    @WithDefault("true")
    boolean enabled();
}
