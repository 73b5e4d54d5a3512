package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;

/**
 * Bus Alt Connection: {@code Bus.send} in the sending application (one message per call, autocommit, pool borrow per
 * send through PgBouncer), {@code @BusListener} in the receiving application (its own LISTEN connection to
 * PostgreSQL). {@link #inTransactions()}: the same, each send in a transaction of its own.
 */
final class ExtensionContender implements Contender {

    static final String LABEL = "Bus Alt Connection";

    private final AppInstance sender;
    private final AppInstance receiver;
    private final boolean transactions;

    ExtensionContender(AppInstance sender, AppInstance receiver) {
        this(sender, receiver, false);
    }

    private ExtensionContender(AppInstance sender, AppInstance receiver, boolean transactions) {
        this.sender = sender;
        this.receiver = receiver;
        this.transactions = transactions;
    }

    /**
     * The same applications, each timed send in a transaction of its own: such a message waits for the sequencer's
     * run, where one sent alone may be numbered by its own statement.
     */
    ExtensionContender inTransactions() {
        return new ExtensionContender(sender, receiver, true);
    }

    @Override
    public String label() {
        return transactions ? LABEL + ", in a transaction" : LABEL;
    }

    @Override
    public Delivery closed(String run, int senders, Duration duration) throws Exception {
        return received(run, send("bench", run, senders, duration, 0, 100));
    }

    @Override
    public Delivery open(String run, int rate, Duration duration, int threads) throws Exception {
        return received(run, Http.post(sender.url() + "/bench/send/open?run=" + run + "&rate=" + rate + "&seconds="
                + duration.toMillis() / 1000.0 + "&threads=" + threads + "&transaction=" + transactions,
                Load.Result.class));
    }

    /** Sends on any channel; returns when the senders are done (nothing waits for a receiver). */
    Load.Result send(String channel, String run, int senders, Duration duration, long count, int size)
            throws Exception {
        return Http.post(sender.url() + "/bench/send/closed?run=" + run + "&channel=" + channel + "&senders=" + senders
                + "&seconds=" + duration.toMillis() / 1000.0 + "&count=" + count + "&size=" + size + "&transaction="
                + transactions,
                Load.Result.class);
    }

    private Delivery received(String run, Load.Result sent) throws Exception {
        return receivedBy(receiver, run, sent);
    }

    /** Waits until {@code receiver} recorded every message {@code sent} sent under {@code run}; its receipt times. */
    static Delivery receivedBy(AppInstance receiver, String run, Load.Result sent) throws Exception {
        String count = receiver.url() + "/bench/count?run=" + run;
        Await.count(sent.sent(), Await.drain(sent.sent()), Await.STALL, () -> Http.get(count, Integer.class));
        String stats = receiver.url() + "/bench/stats?run=" + run;
        RunStats received = Http.get(stats, RunStats.class);
        Http.delete(stats);
        return new Delivery(sent, received);
    }
}
