package io.quarkiverse.busaltconnection.runtime.dispatch;

/** What a listener method is given in one parameter of a listener method. */
public enum ParameterKind {
    /** The payload text, as stored. */
    PAYLOAD_TEXT,
    /** The payload read as JSON into the parameter's type. */
    PAYLOAD_JSON,
    /** The {@link io.quarkiverse.busaltconnection.BusMessage}. */
    MESSAGE,
    /**
     * The {@link GroupDelivery} of a group's call (null outside groups): only the Quarkus Messaging connector's
     * channels take it, never a {@code @BusListener} method.
     */
    GROUP_DELIVERY
}
