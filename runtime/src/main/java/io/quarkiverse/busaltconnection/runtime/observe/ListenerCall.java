package io.quarkiverse.busaltconnection.runtime.observe;

/**
 * One {@code @BusListener} call as an observer follows it (a trace span, say): current on the calling thread while
 * the method runs, ended when the call and its {@code Uni} or {@code CompletionStage} are over.
 */
public interface ListenerCall {

    ListenerCall NONE = new ListenerCall() {
    };

    /** What is current while the method runs on this thread; closed when it returns. */
    interface Current extends AutoCloseable {
        @Override
        void close();
    }

    default Current makeCurrent() {
        return () -> {
        };
    }

    /** @param failure what the call threw or its result failed with; null when it succeeded */
    default void ended(Throwable failure) {
    }
}
