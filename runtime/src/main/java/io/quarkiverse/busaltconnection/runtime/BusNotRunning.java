package io.quarkiverse.busaltconnection.runtime;

import jakarta.inject.Singleton;

import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.ScheduledExecution;

/**
 * Skips the extension's scheduled jobs until the dispatcher is up (schema prepared, listener connected: it is made
 * as the application starts), and after it is closed. Without it, a job firing during a startup that fails would try to create
 * the dispatcher again on a scheduler thread, and log the startup's failure a second time.
 */
@Singleton
public class BusNotRunning implements Scheduled.SkipPredicate {

    private static volatile boolean running;

    /** The dispatcher is up; from the recorder. */
    static void started() {
        running = true;
    }

    /** The dispatcher is closed; from the recorder's shutdown task. */
    static void stopped() {
        running = false;
    }

    @Override
    public boolean test(ScheduledExecution execution) {
        return !running;
    }
}
