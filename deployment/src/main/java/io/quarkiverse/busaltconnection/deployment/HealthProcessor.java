package io.quarkiverse.busaltconnection.deployment;

import io.quarkiverse.busaltconnection.runtime.health.BusListenerHealthCheck;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.smallrye.health.deployment.spi.HealthBuildItem;

/**
 * The listener's readiness check, for applications with SmallRye Health.
 */
class HealthProcessor {

    @BuildStep
    HealthBuildItem listenerReadiness(ImDispatcherHealthBuildConfig config) {
        return new HealthBuildItem(BusListenerHealthCheck.class.getName(), config.enabled());
    }
}
