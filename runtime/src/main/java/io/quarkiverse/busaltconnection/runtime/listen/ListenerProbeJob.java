package io.quarkiverse.busaltconnection.runtime.listen;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.quarkiverse.busaltconnection.runtime.BusLifecycle;
import io.quarkiverse.busaltconnection.runtime.BusNotRunning;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusEngine;
import io.quarkus.scheduler.Scheduled;

/**
 * Probes the listener every {@code quarkus.imdispatcher.probe.interval}: a listener that went deaf while its
 * connection looked alive is reconnected, and the readiness check reports it meanwhile.
 */
@ApplicationScoped
public class ListenerProbeJob {

    private final BusEngine engine;
    private final BusLifecycle lifecycle;

    @Inject
    public ListenerProbeJob(BusEngine engine, BusLifecycle lifecycle) {
        this.engine = engine;
        this.lifecycle = lifecycle;
    }

    @Scheduled(identity = "imdispatcher-listener-probe", every = "${quarkus.imdispatcher.probe.interval:30s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            // Not before the application and its engine (which prepares the schema) are up.
            skipExecutionIf = BusNotRunning.class)
    void probe() {
        if (engine.status().listening()) {
            engine.probe().ifPresent(probe -> probe.recheck(lifecycle::stopping));
        }
    }
}
