package io.quarkiverse.busaltconnection.runtime;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.ScheduledExecution;

/**
 * Skips the extension's scheduled jobs while the bus is not up ({@link BusLifecycle}): before the bus engine started,
 * a job firing during a startup that fails would try to create the bus engine again on a scheduler thread and log the
 * failure a second time; once the application stops, it would run on a closing datasource.
 */
@Singleton
public class BusNotRunning implements Scheduled.SkipPredicate {

    private final BusLifecycle lifecycle;

    @Inject
    public BusNotRunning(BusLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public boolean test(ScheduledExecution execution) {
        return !lifecycle.running();
    }
}
