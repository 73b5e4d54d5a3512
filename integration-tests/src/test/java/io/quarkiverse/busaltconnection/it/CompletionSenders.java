package io.quarkiverse.busaltconnection.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.inject.Inject;

import io.quarkiverse.busaltconnection.Bus;

/**
 * Sends from the transaction observer phases a CDI application uses: before completion (written with the
 * transaction), and after success (written on its own).
 */
@ApplicationScoped
public class CompletionSenders {

    /** Fired in a transaction; its observer sends {@code payload} on {@code channel} as the transaction completes. */
    public record Completing(String channel, String payload) {
    }

    /** Fired in a transaction; its observer sends after the transaction committed. */
    public record Committed(String channel, String payload) {
    }

    @Inject
    Bus bus;

    /** What the sends after success threw. */
    public final List<RuntimeException> refusedAfterSuccess = new CopyOnWriteArrayList<>();

    void beforeCompletion(@Observes(during = TransactionPhase.BEFORE_COMPLETION) Completing event) {
        bus.send(event.channel(), event.payload());
    }

    void afterSuccess(@Observes(during = TransactionPhase.AFTER_SUCCESS) Committed event) {
        try {
            bus.send(event.channel(), event.payload());
        } catch (RuntimeException e) {
            refusedAfterSuccess.add(e);
        }
    }
}
