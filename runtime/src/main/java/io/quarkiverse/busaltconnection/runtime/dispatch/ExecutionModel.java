package io.quarkiverse.busaltconnection.runtime.dispatch;

/** Where a listener method runs, from its {@code @Blocking} / {@code @NonBlocking} / {@code @RunOnVirtualThread}. */
public enum ExecutionModel {
    /** A worker thread (the default): the method may block. */
    BLOCKING,
    /** The listener's event loop: the method must not block. */
    NON_BLOCKING,
    /** A virtual thread (falls back to Quarkus's virtual-thread executor rules on JDKs without them). */
    VIRTUAL_THREAD
}
