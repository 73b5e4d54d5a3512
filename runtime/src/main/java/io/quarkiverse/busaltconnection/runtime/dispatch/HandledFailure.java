package io.quarkiverse.busaltconnection.runtime.dispatch;

/**
 * The outcome of a listener that failed on a message and already dealt with it (logged it, skipped it or sent it to
 * its dead-letter channel), as a connector's broadcast channel does: counted as a failed call, not logged again.
 */
public final class HandledFailure extends RuntimeException {

    public HandledFailure(Throwable cause) {
        super(cause.getMessage(), cause, false, false);
    }
}
