package io.quarkiverse.busaltconnection.deployment;

import java.util.Optional;

import io.quarkiverse.busaltconnection.runtime.metrics.BusMetrics;
import io.quarkiverse.busaltconnection.runtime.metrics.DispatcherMeters;
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
            ImDispatcherMetricsBuildConfig metrics) {
        boolean micrometer = metricsCapability.map(capability -> capability.metricsSupported(MetricsFactory.MICROMETER))
                .orElse(false);
        if (!metrics.enabled() || !micrometer) {
            return null;
        }
        return AdditionalBeanBuildItem.builder().addBeanClasses(BusMetrics.class, DispatcherMeters.class, PgBouncerMeters.class)
                .setUnremovable().build();
    }
}
