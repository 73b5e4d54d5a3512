package io.quarkiverse.busaltconnection.runtime;

import java.util.List;

import io.quarkiverse.busaltconnection.runtime.dispatch.ListenerMethod;

/**
 * The {@code @BusListener} methods of the application, set once at runtime init by the recorder and read when the
 * dispatcher bean is created at startup. Static like the registries of other recorders: one application per class
 * loader, and dev-mode reloads bring a new class loader.
 */
final class ListenerRegistry {

    private static volatile List<ListenerMethod> listeners = List.of();

    private ListenerRegistry() {
    }

    static void set(List<ListenerMethod> methods) {
        listeners = List.copyOf(methods);
    }

    static List<ListenerMethod> get() {
        return listeners;
    }
}
