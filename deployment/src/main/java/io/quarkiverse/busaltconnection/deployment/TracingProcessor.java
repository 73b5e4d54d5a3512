package io.quarkiverse.busaltconnection.deployment;

import io.quarkiverse.busaltconnection.runtime.tracing.BusTracing;
import io.quarkus.arc.deployment.AdditionalBeanBuildItem;
import io.quarkus.deployment.Capabilities;
import io.quarkus.deployment.Capability;
import io.quarkus.deployment.annotations.BuildStep;

/**
 * Traces from {@code Bus.send} to the listener, only when the application has OpenTelemetry tracing: without it, the
 * class that names OpenTelemetry types is never loaded.
 */
class TracingProcessor {

    @BuildStep
    AdditionalBeanBuildItem tracing(Capabilities capabilities) {
        if (!capabilities.isPresent(Capability.OPENTELEMETRY_TRACER)) {
            return null;
        }
        return AdditionalBeanBuildItem.unremovableOf(BusTracing.class);
    }
}
