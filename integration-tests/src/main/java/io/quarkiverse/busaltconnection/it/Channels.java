package io.quarkiverse.busaltconnection.it;

/** Channel names the demo listens on. */
public final class Channels {

    private static final String TEN = "Ünï\"';-- x";

    /**
     * 300 characters: mixed case, double and single quotes, a semicolon, an SQL comment, non-ASCII. Far beyond
     * PostgreSQL's 63-byte channel names; a bus channel has no such limit.
     */
    public static final String WEIRD = "Orders; DROP TABLE imdispatcher_bus; \"Ωmega\" " + TEN + TEN + TEN + TEN + TEN + TEN
            + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN + TEN
            + "12345";

    /** Messages numbered 0, 1, 2, ...: their order and completeness are checked. */
    public static final String SEQUENCE = "sequence";

    /** Messages of many concurrent senders, recorded with their positions. */
    public static final String CONCURRENCY = "concurrency";

    private Channels() {
    }
}
