package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.List;

/**
 * The application's {@code @BusListener} methods, found and validated at build time, with channel expressions
 * resolved from runtime configuration: a synthetic bean, as the scheduler's {@code SchedulerContext} is.
 */
public record BusListeners(List<ListenerMethod> methods) {

    public BusListeners {
        methods = List.copyOf(methods);
    }
}
