package io.quarkiverse.busaltconnection.runtime.dispatch;

/** What a listener method is given in one parameter of a listener method. */
public enum ParameterKind {
    /** The payload text, as stored. */
    PAYLOAD_TEXT,
    /** The payload read as JSON into the parameter's type. */
    PAYLOAD_JSON,
    /** The {@link io.quarkiverse.busaltconnection.BusMessage}. */
    MESSAGE
}
