package io.quarkiverse.busaltconnection.deployment;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig;
import io.quarkiverse.busaltconnection.runtime.health.BusListenerHealthCheck;
import io.quarkiverse.busaltconnection.runtime.health.BusLivenessCheck;
import io.quarkiverse.busaltconnection.runtime.health.BusStartupCheck;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.smallrye.health.deployment.spi.HealthBuildItem;

/**
 * The bus's readiness, liveness and startup checks, for applications with SmallRye Health.
 */
class HealthProcessor {

    @BuildStep
    HealthBuildItem listenerReadiness(ImDispatcherBuildTimeConfig config) {
        return new HealthBuildItem(BusListenerHealthCheck.class.getName(), config.health().enabled());
    }

    @BuildStep
    HealthBuildItem dispatcherLiveness(ImDispatcherBuildTimeConfig config) {
        return new HealthBuildItem(BusLivenessCheck.class.getName(), config.health().enabled());
    }

    @BuildStep
    HealthBuildItem firstListenStartup(ImDispatcherBuildTimeConfig config) {
        return new HealthBuildItem(BusStartupCheck.class.getName(), config.health().enabled());
    }
}
