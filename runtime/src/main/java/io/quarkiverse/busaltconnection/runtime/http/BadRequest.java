package io.quarkiverse.busaltconnection.runtime.http;

/** A request the HTTP delivery refuses, with the status and a message that says what to change. */
final class BadRequest extends Exception {

    private static final long serialVersionUID = 1L;

    final int status;
    final String error;

    BadRequest(int status, String error, String message) {
        super(message, null, false, false);
        this.status = status;
        this.error = error;
    }

    static BadRequest invalid(String message) {
        return new BadRequest(400, "bad-request", message);
    }
}
