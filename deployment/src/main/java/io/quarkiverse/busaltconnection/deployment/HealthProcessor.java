package io.quarkiverse.busaltconnection.deployment;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig;
import io.quarkiverse.busaltconnection.runtime.health.BusListenerHealthCheck;
import io.quarkiverse.busaltconnection.runtime.health.BusStartupCheck;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.smallrye.health.deployment.spi.HealthBuildItem;

/**
 * The bus's readiness and startup checks, for applications with SmallRye Health. There is no liveness check: the
 * instance recovers from every fault of the bus by itself, so a restart never helps.
 */
class HealthProcessor {

    @BuildStep
    HealthBuildItem listenerReadiness(ImDispatcherBuildTimeConfig config) {
        return new HealthBuildItem(BusListenerHealthCheck.class.getName(), config.health().enabled());
    }

    @BuildStep
    HealthBuildItem firstListenStartup(ImDispatcherBuildTimeConfig config) {
        return new HealthBuildItem(BusStartupCheck.class.getName(), config.health().enabled());
    }
}
