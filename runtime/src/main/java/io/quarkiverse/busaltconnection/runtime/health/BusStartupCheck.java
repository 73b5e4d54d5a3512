package io.quarkiverse.busaltconnection.runtime.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Startup;

import io.quarkiverse.busaltconnection.runtime.dispatch.EngineStatus;

/**
 * UP once the first LISTEN went through (the application starts only then, so this says UP as soon as it answers at
 * all), or at once for an application that does not listen.
 */
@Startup
@ApplicationScoped
public class BusStartupCheck implements HealthCheck {

    static final String NAME = "Bus Alt Connection first LISTEN";

    private final EngineStatus status;

    @Inject
    public BusStartupCheck(EngineStatus status) {
        this.status = status;
    }

    @Override
    public HealthCheckResponse call() {
        if (!status.active()) {
            return HealthCheckResponse.named(NAME).up().withData("listening", "no: nothing to listen for").build();
        }
        return HealthCheckResponse.named(NAME).up().withData("server", status.server())
                .withData("channels", status.channels().size()).build();
    }
}
