package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;

import javax.sql.DataSource;

/**
 * A baseline over pgjdbc: {@link JdbcSends} through PgBouncer from this JVM, a {@link BareListener} receiving. The
 * listener connects for each run and leaves after it: a backend that LISTENs is signalled by every notification of the
 * database, whatever its channel, so an idle one would slow the other systems' runs.
 */
final class JdbcContender implements Contender {

    static final String OUTBOX_LABEL = "plain outbox (INSERT + NOTIFY)";
    static final String RAW_LABEL = "raw pg_notify";

    private final String label;
    private final Load.Send send;
    private final Servers servers;
    private final String channel;
    private final boolean readsRow;

    private JdbcContender(String label, Load.Send send, Servers servers, String channel, boolean readsRow) {
        this.label = label;
        this.send = send;
        this.servers = servers;
        this.channel = channel;
        this.readsRow = readsRow;
    }

    /** The plain outbox: INSERT + pg_notify(id) in one transaction; the listener reads the row. */
    static JdbcContender outbox(Servers servers, DataSource pool) {
        return new JdbcContender(OUTBOX_LABEL, JdbcSends.statement(pool, JdbcSends.OUTBOX), servers,
                BareListener.OUTBOX_CHANNEL, true);
    }

    /** pg_notify alone with the message as payload: not durable, a reference. */
    static JdbcContender rawNotify(Servers servers, DataSource pool) {
        return new JdbcContender(RAW_LABEL, JdbcSends.statement(pool, JdbcSends.RAW_NOTIFY), servers,
                BareListener.RAW_CHANNEL, false);
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public Delivery closed(String run, int senders, Duration duration) throws Exception {
        try (BareListener listener = new BareListener(servers, channel, readsRow)) {
            Receiver receiver = listener.expect(run);
            Load.Result sent = Load.closed(run, senders, duration, 0, 100, send);
            return new Delivery(sent, receiver.await(sent.sent()));
        }
    }

    @Override
    public Delivery open(String run, int rate, Duration duration, int threads) throws Exception {
        try (BareListener listener = new BareListener(servers, channel, readsRow)) {
            Receiver receiver = listener.expect(run);
            Load.Result sent = Load.open(run, rate, duration, threads, 100, send);
            return new Delivery(sent, receiver.await(sent.sent()));
        }
    }
}
