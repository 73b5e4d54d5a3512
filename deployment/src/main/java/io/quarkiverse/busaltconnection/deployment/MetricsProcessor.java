package io.quarkiverse.busaltconnection.deployment;

import java.util.Optional;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig;
import io.quarkiverse.busaltconnection.runtime.metrics.BusMetrics;
import io.quarkiverse.busaltconnection.runtime.metrics.EngineMeters;
import io.quarkiverse.busaltconnection.runtime.metrics.PgBouncerMeters;
import io.quarkus.arc.deployment.AdditionalBeanBuildItem;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.metrics.MetricsCapabilityBuildItem;
import io.quarkus.runtime.metrics.MetricsFactory;

/**
 * The bus's Micrometer meters, only when the application has Micrometer (and its metrics are on): without it, the
 * classes that name Micrometer types are never loaded.
 */
class MetricsProcessor {

    @BuildStep
    AdditionalBeanBuildItem meters(Optional<MetricsCapabilityBuildItem> metricsCapability,
            ImDispatcherBuildTimeConfig config) {
        boolean micrometer = metricsCapability.map(capability -> capability.metricsSupported(MetricsFactory.MICROMETER))
                .orElse(false);
        if (!config.metrics().enabled() || !micrometer) {
            return null;
        }
        return AdditionalBeanBuildItem.builder().addBeanClasses(BusMetrics.class, EngineMeters.class, PgBouncerMeters.class)
                .setUnremovable().build();
    }
}
