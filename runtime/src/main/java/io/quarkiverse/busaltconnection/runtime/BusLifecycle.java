package io.quarkiverse.busaltconnection.runtime;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;

import io.quarkus.runtime.ShutdownEvent;

/**
 * Whether the bus is up: from the bus engine's start (schema prepared, listener connected) until the application
 * begins to stop. Scheduled jobs skip outside it, and work already under way when the application stops ends quietly:
 * the datasource and the direct connections close under it, and that is no failure worth an ERROR.
 */
@Singleton
public class BusLifecycle {

    private volatile boolean running;
    private volatile boolean stopping;

    /** The bus engine is up; from the recorder. */
    void started() {
        running = true;
    }

    /** Before the datasource, the scheduler and the direct connections are closed. */
    void stopping(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) {
        stopping = true;
        running = false;
    }

    /** Between the bus engine's start and the application's stop. */
    public boolean running() {
        return running;
    }

    /** The application is stopping: failures now are the shutdown's, not the bus's. */
    public boolean stopping() {
        return stopping;
    }
}
