package io.quarkiverse.busaltconnection.runtime.sequence;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Gives committed bus rows their positions, when this instance is the database's sequencer. Every instance competes
 * for one session advisory lock on its listening connection (the direct path: a session lock through a transaction
 * pooler would be meaningless); the holder numbers rows when a sender's wake-up arrives and at every sweep, and tells
 * every instance where the head is with a NOTIFY in a transaction of its own (no WAL, no flush). When the holder's
 * connection ends, PostgreSQL releases the lock and the next instance to sweep takes over. A run that dies half-way
 * rolls back: positions are handed out only by committed runs, without gaps.
 * <p>
 * Runs are coalesced: wake-ups that come during a run make one more run. State lives on the sequencer's own context.
 */
public final class Sequencer {

    private static final Logger LOG = Logger.getLogger(Sequencer.class);
    /** Most rows one run numbers: bounds a run's transaction; a full run is followed by another at once. */
    static final int BATCH = 10_000;
    /** After a run that numbered rows, the next waits this many times as long as that run took ... */
    static final long PAUSE_FACTOR = 4;
    /** ... but never longer than this. */
    static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final BusTable table;
    private final Supplier<SqlClient> connection;
    private final Consumer<Numbered> numbered;
    /** The highest head this instance read: a state row below it means the history went back. */
    private final LongSupplier knownHead;
    /** Told, on the sequencer's context, when a run found the head below the known one and numbered nothing. */
    private final Runnable wentBack;
    private final Context context;
    private final Duration stallTimeout;
    /** The head last seen by an instance that is not the sequencer, and since when it stood still with rows waiting. */
    private long watchedHead = -1;
    private long stalledSince;
    /** The connection on which this instance holds the lock; null when it does not. */
    private SqlClient held;
    private final Vertx vertx;
    private boolean running;
    /** A run waits for {@link #notBefore}. */
    private boolean pacing;
    private long notBefore;
    private boolean again;
    private int failures;
    private volatile boolean sequencing;

    /**
     * Listens on {@code connection} for the senders' wake-ups, and competes for the lock each time it is (again) up;
     * the connection must not have started yet.
     *
     * @param stallTimeout how long the head may stand still while rows wait before the sequencer's connection is ended
     * @param numbered told what each run that numbered rows numbered, on the sequencer's context
     * @param knownHead the highest head this instance read from the database
     * @param wentBack told when a run found the database's head below {@code knownHead}: it numbered nothing
     */
    public Sequencer(Vertx vertx, BusTable table, ListenerConnection connection, Duration stallTimeout,
            Consumer<Numbered> numbered, LongSupplier knownHead, Runnable wentBack) {
        this.knownHead = knownHead;
        this.wentBack = wentBack;
        this.table = table;
        this.stallTimeout = stallTimeout;
        this.connection = connection::sqlClient;
        this.numbered = numbered;
        this.vertx = vertx;
        this.context = ((VertxInternal) vertx).createEventLoopContext();
        connection.listen(table.writtenChannel(), payload -> onWritten());
        connection.onListening(this::onListening);
    }

    /** Whether this instance is the database's sequencer right now. */
    public boolean sequencing() {
        return sequencing;
    }

    /** A sender's wake-up: rows were committed. */
    private void onWritten() {
        context.runOnContext(ignored -> run());
    }

    /**
     * The periodic sweep: number what a lost wake-up left behind; or take the lock if it is free, and watch that the
     * sequencer keeps up if it is not.
     */
    public void sweep() {
        context.runOnContext(ignored -> {
            if (holder()) {
                run();
            } else {
                tryToLead();
                watchSequencer();
            }
        });
    }

    /**
     * A sequencer whose connection is alive but that numbers nothing (its instance is wedged: an endless GC, a blocked
     * event loop) would hold up every instance's delivery, since PostgreSQL releases its lock only when the connection
     * ends. When the head stood still for the stall timeout while committed rows waited for a position, its
     * connection is ended ({@code pg_terminate_backend}, allowed for backends of the same user), and the next sweep
     * takes the lock.
     */
    private void watchSequencer() {
        SqlClient client = connection.get();
        if (client == null) {
            return;
        }
        client.preparedQuery(table.sequencerProgress()).execute(Tuple.of(table.lockKey()))
                .onComplete(result -> context.runOnContext(ignored -> {
                    if (result.failed()) {
                        return;
                    }
                    Row row = result.result().iterator().next();
                    long head = row.getLong(0);
                    boolean waiting = row.getBoolean(1);
                    Integer pid = row.getInteger(2);
                    long now = System.nanoTime();
                    if (head != watchedHead || !waiting || pid == null) {
                        watchedHead = head;
                        stalledSince = now;
                        return;
                    }
                    if (now - stalledSince >= stallTimeout.toNanos()) {
                        LOG.warnf("The bus sequencer (backend pid %d) numbered nothing for %d s while messages waited;"
                                + " ending its connection so that another instance takes over", pid,
                                stallTimeout.toSeconds());
                        stalledSince = now;
                        client.preparedQuery("SELECT pg_terminate_backend($1)").execute(Tuple.of(pid));
                    }
                }));
    }

    /** The listening connection is (again) up: a new session, which holds no lock yet. */
    private void onListening() {
        context.runOnContext(ignored -> tryToLead());
    }

    private boolean holder() {
        SqlClient current = connection.get();
        boolean holding = held != null && held == current;
        if (!holding && held != null) {
            held = null;
            sequencing = false;
            LOG.info("This instance no longer sequences the bus: its listening connection ended");
        }
        return holding;
    }

    private void tryToLead() {
        SqlClient client = connection.get();
        if (client == null || holder()) {
            return;
        }
        client.preparedQuery("SELECT pg_try_advisory_lock(" + BusTable.sequencerLockSql() + ")")
                .execute(Tuple.of(table.lockKey()))
                .onComplete(result -> context.runOnContext(ignored -> {
                    if (result.succeeded() && result.result().iterator().next().getBoolean(0)
                            && client == connection.get()) {
                        held = client;
                        sequencing = true;
                        LOG.infof("This instance sequences the bus '%s'", table.describe());
                        run();
                    }
                }));
    }

    private void run() {
        if (!holder()) {
            return;
        }
        if (running || pacing) {
            again = true;
            return;
        }
        long wait = notBefore - System.nanoTime();
        if (wait > 0) {
            // Busy: the previous run numbered rows moments ago. Take what arrives meanwhile in the next run.
            pacing = true;
            vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)), id -> context.runOnContext(ignored -> {
                pacing = false;
                run();
            }));
            return;
        }
        running = true;
        again = false;
        SqlClient client = held;
        long started = System.nanoTime();
        client.preparedQuery(table.sequence()).execute(Tuple.of(BATCH, knownHead.getAsLong())).onComplete(
                result -> context.runOnContext(
                        ignored -> {
                            running = false;
                            if (result.failed()) {
                                // A lost connection fails one run; only a run that fails again is worth a warning.
                                if (failures++ == 1) {
                                    LOG.warnf("Numbering bus messages failed (%s); the next wake-up or sweep tries again",
                                            result.cause().getMessage());
                                } else {
                                    LOG.debugf("Numbering bus messages failed: %s", result.cause().getMessage());
                                }
                                return;
                            }
                            failures = 0;
                            Row row = result.result().iterator().next();
                            if (Boolean.TRUE.equals(row.getBoolean(4))) {
                                wentBack.run();
                                return;
                            }
                            long head = row.getLong(0);
                            long count = row.getLong(1);
                            long ended = System.nanoTime();
                            if (count > 0) {
                                String hint = HeadHint.encode(head, row.getArrayOfStrings(2));
                                client.preparedQuery("SELECT pg_notify($1, $2)").execute(Tuple.of(table.headChannel(), hint));
                                numbered.accept(Numbered.of(row));
                                // A run that numbered rows committed, and so waited for a disk flush, during which the
                                // senders' commits queued behind it. When more wake-ups came during the run (messages back
                                // to back), leaving the disk to the senders for a few times as long keeps the sequencer's
                                // share of the flushes small; otherwise the next message is numbered as soon as it comes.
                                notBefore = again ? ended + Math.min(MAX_PAUSE_NANOS, PAUSE_FACTOR * (ended - started)) : 0;
                            }
                            if (count == BATCH) {
                                notBefore = 0;
                                run();
                            } else if (again) {
                                run();
                            }
                        }));
    }
}
