package io.quarkiverse.busaltconnection.runtime.send;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.sequence.SequencerActivity;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;

/**
 * Tells the database's sequencer, after a commit, that rows were written: {@code pg_notify} on the table's channel, in
 * a transaction of its own that writes only its commit record and so commits without a flush (it does use a transaction
 * id), holding PostgreSQL's NOTIFY lock for
 * microseconds (inside the data transaction it would hold it through the flush and serialize every sender).
 * <p>
 * Not sent when the sequencer is in this instance (asked in the JVM instead: {@link SequencerActivity}), nor while it
 * looks on its own after numbering messages ({@link BusTable#wakeUp()}); its answer then says for how long, and
 * commits until then do not even ask. Coalesced and off the
 * caller's thread: one
 * thread sends, at most one notification per millisecond; requests that
 * arrive meanwhile make one more notification, however many there were. A notification that cannot be sent loses nothing: the
 * sequencer also sweeps
 * for unnumbered rows every {@code quarkus.imdispatcher.bus.sweep-interval}.
 */
final class WrittenHint implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(WrittenHint.class);

    private final DataSource dataSource;
    private final String channel;
    private final String wakeUp;
    private final BooleanSupplier stopping;
    private final SequencerActivity activity;
    private final ExecutorService sender = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "imdispatcher-written-hint");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicBoolean requested = new AtomicBoolean();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Whether a transaction of this instance carries its wake-up right now ({@link #carry()}). */
    private final AtomicBoolean carrying = new AtomicBoolean();
    private volatile boolean failing;
    /** Only the sending thread reads and writes it. */
    private long nextAllowed;
    static final long GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * Until when (nanoTime) commits need not even ask: the database said the sequencer looks on its own until then
     * (see {@link BusTable#wakeUp()}).
     */
    private volatile long busyUntil = System.nanoTime();

    /**
     * @param stopping whether the application stops: the datasource closes then, and a failed wake-up is no news
     * @param activity says when a wake-up through the database is not needed
     */
    WrittenHint(DataSource dataSource, BusTable table, BooleanSupplier stopping, SequencerActivity activity) {
        this.dataSource = dataSource;
        this.wakeUp = table.wakeUp();
        this.activity = activity;
        this.channel = table.writtenChannel();
        this.stopping = stopping;
    }

    /**
     * Whether a write should carry its wake-up in its own statement ({@link BusTable#insertOneWaking()}): the sequencer
     * is in another instance and not known to look on its own, and no other transaction of this instance carries one
     * right now. The write's transaction then notifies at its commit, with no transaction or round trip of its own.
     * Only one at a time: it holds PostgreSQL's NOTIFY lock through its commit flush, and the senders of a burst that
     * all carried one would commit one after the other (the others ask after their commit, as usual). A caller told
     * yes calls {@link #carriedEnded()} once that transaction ended, however.
     */
    boolean carry() {
        return System.nanoTime() - busyUntil >= 0 && !activity.local() && carrying.compareAndSet(false, true);
    }

    /** The transaction that {@link #carry()} said should carry the wake-up committed or rolled back. */
    void carriedEnded() {
        carrying.set(false);
    }

    /**
     * Reads a wake-up statement's answer ({@link BusTable#wakeUp()}), asked at {@code asked} (nanoTime).
     *
     * @return whether it notified; else the sequencer looks on its own for as long as it said, and commits until then
     *         need not even ask
     */
    boolean answered(long asked, ResultSet answer) throws SQLException {
        return answered(asked, answer.next() ? answer.getDouble(1) : 0);
    }

    /** The highest head this instance read from the database: see {@link SequencerActivity#knownHead()}. */
    long knownHead() {
        return activity.knownHead();
    }

    /**
     * Reads the answer of a write that may have numbered its own messages ({@link BusTable#insertOneNumbering()}),
     * asked at {@code asked} (nanoTime).
     *
     * @return whether the sequencer needs no wake-up after the commit: the write numbered its messages, or notified
     */
    boolean numberedOrAnswered(long asked, ResultSet answer) throws SQLException {
        if (!answer.next()) {
            return false;
        }
        answer.getLong(1);
        if (!answer.wasNull()) {
            return true;
        }
        double awake = answer.getDouble(2);
        return answered(asked, answer.wasNull() ? null : awake);
    }

    /**
     * {@link #answered(long, ResultSet)} for an answer already read: {@code awakeMillis} is null or not positive when the
     * statement notified.
     */
    boolean answered(long asked, Double awakeMillis) {
        if (awakeMillis == null || awakeMillis <= 0) {
            return true;
        }
        // Counted from before the question, so as to end before the sequencer stops looking.
        busyUntil = asked + (long) (awakeMillis * 1_000_000);
        return false;
    }

    /**
     * Rows were committed: make sure the sequencer hears of it, by a notification after this call unless it needs none
     * ({@link SequencerActivity}), or their write carried one that went out with the commit. Never blocks.
     *
     * @param notified whether the write's own statement notified ({@link #carry()})
     */
    void request(boolean notified) {
        if (notified) {
            return;
        }
        request();
    }

    /** {@link #request(boolean)} for a write that carried no wake-up. */
    void request() {
        if (activity.committed() || System.nanoTime() - busyUntil < 0) {
            return;
        }
        requested.set(true);
        if (scheduled.compareAndSet(false, true)) {
            sender.execute(this::drain);
        }
    }

    private void drain() {
        while (true) {
            while (requested.get()) {
                // At most one wake-up per GAP: back-to-back senders share one instead of each paying for a
                // transaction of its own; a send after a quiet moment wakes the sequencer at once.
                long wait = nextAllowed - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                requested.set(false);
                nextAllowed = System.nanoTime() + GAP_NANOS;
                send();
            }
            scheduled.set(false);
            // A request that came after the last check but before the flag was cleared found it set: take it here.
            if (!requested.get() || !scheduled.compareAndSet(false, true)) {
                return;
            }
        }
    }

    private void send() {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement notify = connection.prepareStatement(wakeUp)) {
            if (!connection.getAutoCommit()) {
                connection.setAutoCommit(true);
            }
            notify.setString(1, channel);
            long asked = System.nanoTime();
            try (ResultSet answer = notify.executeQuery()) {
                answered(asked, answer);
            }
            if (failing) {
                failing = false;
                LOG.infof("Bus wake-ups go through again");
            }
        } catch (SQLException e) {
            if (stopping.getAsBoolean()) {
                LOG.debugf("A bus wake-up was not sent as the application stops: %s", e.getMessage());
            } else if (!failing) {
                failing = true;
                LOG.warnf("A bus wake-up could not be sent through the datasource (%s); the sequencer's sweep numbers"
                        + " the messages instead, within quarkus.imdispatcher.bus.sweep-interval", e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        sender.shutdownNow();
    }
}
