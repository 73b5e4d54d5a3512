package io.quarkiverse.busaltconnection;

/**
 * The database refused or failed a bus operation; the cause holds the driver's exception.
 */
public class BusException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public BusException(String message, Throwable cause) {
        super(message, cause);
    }
}
