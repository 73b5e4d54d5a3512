package io.quarkiverse.busaltconnection.runtime.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

import io.quarkiverse.busaltconnection.runtime.dispatch.EngineStatus;

/**
 * DOWN only when a restart is what helps: the bus table changed its epoch under the running instance (a restored
 * copy replaced it). A lost connection, a deaf listener or a database that is down are readiness matters: the
 * instance reconnects by itself, and a restart would not make the database come back sooner.
 */
@Liveness
@ApplicationScoped
public class BusLivenessCheck implements HealthCheck {

    static final String NAME = "Bus Alt Connection dispatcher";

    private final EngineStatus status;

    @Inject
    public BusLivenessCheck(EngineStatus status) {
        this.status = status;
    }

    @Override
    public HealthCheckResponse call() {
        if (status.epochChanged()) {
            return HealthCheckResponse.named(NAME).down().withData("epoch", "the bus table's epoch is no longer "
                    + status.epoch() + ": it was replaced (a restored copy?); restart to deliver from the new one")
                    .build();
        }
        return HealthCheckResponse.named(NAME).up().withData("epoch", status.epoch()).build();
    }
}
