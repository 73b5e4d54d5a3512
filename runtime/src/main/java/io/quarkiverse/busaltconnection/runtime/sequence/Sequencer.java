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
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Gives committed bus rows their positions, when this instance is the database's sequencer. Every instance competes
 * for one session advisory lock on its listening connection (the direct path: a session lock through a transaction
 * pooler would be meaningless); the holder, the only instance that listens for the senders' wake-ups, numbers rows
 * when one arrives and at every sweep, and tells
 * every instance where the head is with a NOTIFY in a transaction of its own (a commit record, no flush). When the holder's
 * connection ends, PostgreSQL releases the lock and the next instance to sweep takes over. A run that dies half-way
 * rolls back: positions are handed out only by committed runs, without gaps.
 * <p>
 * Runs are coalesced: wake-ups that come during a run make one more run. After a run that numbered many messages, the
 * next waits a few times as long as that run took (its commit's flush is the senders' too); while messages come at
 * {@link #FILL} per linger ({@code quarkus.imdispatcher.bus.sequencer-linger}) or faster, it waits until about that
 * many have come. With many listening
 * instances, a run that numbered messages is followed by none for {@link #SPACING_PER_INSTANCE_NANOS} per instance:
 * each head hint signals every one of them. Then the sequencer goes on running on its own, looking every
 * {@link #POLL_NANOS} for as long as the run told the senders in the state row (at least {@link #MIN_AWAKE_NANOS},
 * longer when runs are slow or spaced): until then they skip their wake-up ({@link BusTable#wakeUp()}). While
 * messages come slowly ({@link #CARRIED_BELOW}), a run tells them instead that the sequencer does not look on its own,
 * and waits: each sender's statement then carries its wake-up, delivered at its commit
 * ({@link BusTable#insertOneWaking()}); a send of one message outside any transaction then numbers it itself when
 * nothing else waits for a position ({@link BusTable#insertOneNumbering()}), and a run that read the state row before
 * that finds it changed, writes nothing, and runs again. A commit in the sequencer's own instance asks for a run in the JVM
 * ({@link SequencerActivity}). State lives on the listening connection's event loop.
 */
public final class Sequencer {

    private static final Logger LOG = Logger.getLogger(Sequencer.class);
    /** Most rows one run numbers: bounds a run's transaction; a full run is followed by another at once. */
    static final int BATCH = 10_000;
    /**
     * A run that numbered fewer messages than this is followed by no pause of its own (only {@link #FILL}'s, when
     * messages come fast): at such rates each message would wait for the pause (at 100 messages a second, a pause of
     * 10 ms took the delivery's median from 4 ms to 20 ms), and the sequencer's commits are few enough to leave the
     * disk to the senders anyway.
     */
    static final long PACED_FROM = 16;
    /** After a run that numbered at least {@link #PACED_FROM} rows, the next waits this many times as long ... */
    static final long PAUSE_FACTOR = 4;
    /** ... but never longer than this. */
    static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /**
     * While messages come fast enough that a run would find this many of them within the linger (400 a second and
     * more with the default 40 ms), a run that numbered messages is followed by the next only once about that many
     * have come: each run costs a transaction id and a commit flush, which one sender waiting for each commit met
     * every message or two (1.5 transaction ids per message and 0.68x a plain INSERT's rate on a 1 ms disk; 1.09 and
     * 0.93x with runs of 12). Below that rate the next run does not wait: each message would.
     */
    static final long FILL = 16;
    /** The longest linger: the senders' wake-up window ({@link #awakeTime()}, at most 500 ms) must cover it. */
    public static final Duration MAX_LINGER = Duration.ofMillis(400);
    /**
     * After a run that numbered messages, the sequencer keeps running on its own, every {@link #POLL_NANOS} when a run
     * finds nothing, until a run starts at least this long after it ended; the run says so in the state row
     * ({@code awake_until}), and senders send no wake-up until then ({@link BusTable#wakeUp()}). At least this long...
     */
    static final long MIN_AWAKE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /**
     * ... and at least twice as long as the last run that numbered messages took (or the linger, or the fleet's
     * spacing, when longer), plus this: under load the next run (after its pause) then says it again before the time
     * runs out, however slow the runs are, and no sender sends a wake-up while the sequencer runs anyway. At most
     * {@link BusTable#MAX_AWAKE_MILLIS}.
     */
    static final long AWAKE_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    /**
     * Looking on its own, the sequencer finds a commit a poll later (about 1 ms at 100 messages a second, beyond the
     * limit of the delivery latency's goal); a wake-up carried by the sender's own statement reaches it at the commit,
     * and costs no transaction id. But a notifying transaction holds PostgreSQL's NOTIFY lock through its commit flush,
     * as the sequencer's runs do: with many of them, senders would wait for one another. So the senders carry their
     * wake-ups only while runs that number messages take less than this share of the time (below about 160 messages a
     * second where a run takes 2.5 ms, as on the benchmark's 1 ms disk) ...
     */
    static final double CARRIED_BELOW = 0.4;
    /** ... the rate taken over this long when the linger is 0 (else over the linger). */
    static final long RATE_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(40);
    /**
     * PostgreSQL before 19 signals every listening backend of the database for every notification, whatever its
     * channel: each head hint wakes every listening instance, which reads the notification queue. With 100 instances,
     * 31 hints a second took the senders' throughput to 0.54x, 7 a second left it whole (benchmarks, fleet). After a
     * run that numbered messages, the next starts this long per listening instance later (at most about 1,000 signals
     * a second), when that is longer than a poll ...
     */
    static final long SPACING_PER_INSTANCE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** ... and at most this long: the delivery latency a fleet pays for it. */
    static final long MAX_SPACING_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final BusTable table;
    private final Supplier<SqlClient> connection;
    private final ListenerConnection listener;
    private final Consumer<Numbered> numbered;
    /** The highest head this instance read: a state row below it means the history went back. */
    private final LongSupplier knownHead;
    /** Told, on the sequencer's context, when a run found the head below the known one and numbered nothing. */
    private final Runnable wentBack;
    private final Context context;
    private final Duration stallTimeout;
    /** The longest messages gather before a run while they come fast ({@link #FILL}); 0 for never. */
    private final long lingerNanos;
    /** The head last seen by an instance that is not the sequencer, and since when it stood still with rows waiting. */
    private long watchedHead = -1;
    private long stalledSince;
    /** The pid of the last lock holder reported at ERROR as one this instance may not end; 0 for none. */
    private int reportedHolder;
    /** The application_name every instance of the bus gives its listening connection. */
    private final Supplier<String> applicationName;
    /** The connection on which this instance holds the lock; null when it does not. */
    private SqlClient held;
    private final Vertx vertx;
    private boolean running;
    /** A run waits for {@link #notBefore}, on {@link #timer}; a poll's wait ({@link #polling}) ends at a wake-up. */
    private boolean pacing;
    private boolean polling;
    private long timer;
    private long notBefore;
    private boolean again;
    /** How long the last run that numbered messages took, and when it started. */
    private long lastNumberingRun;
    private long lastNumberingStart;
    /** How long runs that numbered messages took lately, in ns: a moving average over about five of them. */
    private double runTime;
    /**
     * Messages per nanosecond committed lately, as the runs that numbered them found them: a moving average over about
     * the linger, so that two messages that happen to come together do not make the next run wait.
     */
    private double rate;
    /** The last run's {@link #fillTime} and when that run ended, for {@link #runSpacing()} (the meters' threads). */
    private volatile long filling;
    private volatile long filledAt;
    /**
     * Until when (nanoTime) the sequencer looks on its own: the latest time a run that numbered messages told the
     * senders, who send no wake-up until then.
     */
    private long lookUntil;
    /** The bus's listening instances, this one included, as counted at the last sweep (read by the meters too). */
    private volatile long instances = 1;
    private int failures;
    private volatile boolean sequencing;

    /**
     * Competes for the lock on {@code connection} each time it is (again) up, and listens there for the senders'
     * wake-ups while it holds it; the connection must not have started yet.
     *
     * @param stallTimeout how long the head may stand still while rows wait before the sequencer's connection is ended
     * @param linger the longest messages gather before a run while they come fast ({@link #FILL}); zero for never
     * @param numbered told what each run that numbered rows numbered, on the sequencer's context
     * @param knownHead the highest head this instance read from the database
     * @param wentBack told when a run found the database's head below {@code knownHead}: it numbered nothing
     */
    public Sequencer(Vertx vertx, BusTable table, ListenerConnection connection, Duration stallTimeout,
            Duration linger, Consumer<Numbered> numbered, LongSupplier knownHead, Runnable wentBack,
            SequencerActivity activity) {
        this.knownHead = knownHead;
        this.wentBack = wentBack;
        this.table = table;
        this.stallTimeout = stallTimeout;
        this.lingerNanos = linger.toNanos();
        this.connection = connection::sqlClient;
        this.numbered = numbered;
        this.vertx = vertx;
        // The listening connection's event loop: its wake-ups and run results need no hop to another thread.
        this.context = connection.context();
        this.listener = connection;
        this.applicationName = () -> String.valueOf(connection.options().getProperties().get("application_name"));
        connection.register(table.writtenChannel(), payload -> onWritten());
        connection.onListening(this::onListening);
        this.lookUntil = System.nanoTime();
        this.lastNumberingStart = lookUntil - MIN_AWAKE_NANOS;
        activity.sequencerHere(() -> {
            if (!sequencing) {
                return false;
            }
            onWritten();
            return true;
        }, () -> sequencing, knownHead);
    }

    /** Whether this instance is the database's sequencer right now. */
    public boolean sequencing() {
        return sequencing;
    }

    /** A sender's wake-up, or a commit in this instance: rows were committed. */
    private void onWritten() {
        context.runOnContext(ignored -> {
            if (pacing && polling) {
                // Looking again soon anyway: a known commit need not wait for the timer.
                vertx.cancelTimer(timer);
                pacing = false;
                notBefore = 0;
            }
            run();
        });
    }

    /**
     * The periodic sweep: number what a lost wake-up left behind; or take the lock if it is free, and watch that the
     * sequencer keeps up if it is not.
     */
    public void sweep() {
        context.runOnContext(ignored -> {
            if (holder()) {
                countInstances();
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
     * connection is ended ({@code pg_terminate_backend}, in one statement that checks it still holds the lock), and
     * the next sweep takes the lock. A holder that is not an instance of the bus (another {@code application_name}:
     * a session that took the same advisory lock) or that this role may not end is left alone and named at ERROR,
     * with what to do: ending it is for the people who know what it is.
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
                        stalledSince = now;
                        endStalled(client, pid, row.getString(3), row.getString(4),
                                Boolean.TRUE.equals(row.getBoolean(5)));
                    }
                }));
    }

    private void endStalled(SqlClient client, int pid, String role, String application, boolean mayEnd) {
        String bus = applicationName.get();
        if (!bus.equals(application)) {
            reportOnce(pid, String.format("The bus sequencer's lock (pg_advisory_lock(hashtext('%s'), 1)) is held by"
                    + " backend pid %d (role %s, application_name '%s'), which is not an instance of this bus (their"
                    + " application_name is '%s', quarkus.imdispatcher.application-name): committed messages wait"
                    + " for their positions while it holds it. End that session (SELECT pg_terminate_backend(%d)) if"
                    + " it is not needed; if another program takes the same advisory lock, give the bus table another"
                    + " name (quarkus.imdispatcher.bus.table)", table.lockKey(), pid, role, application, bus, pid));
            return;
        }
        if (!mayEnd) {
            reportOnce(pid, String.format("The bus sequencer (backend pid %d, role %s) numbered nothing for %d s while"
                    + " messages waited, and this instance's role may not end its connection: run every instance"
                    + " with the same role, or grant this role pg_signal_backend", pid, role,
                    stallTimeout.toSeconds()));
            return;
        }
        client.preparedQuery(table.endSequencerHolder()).execute(Tuple.of(table.lockKey(), pid))
                .onComplete(ended -> {
                    if (ended.failed()) {
                        LOG.warnf("The bus sequencer (backend pid %d) numbered nothing for %d s while messages waited,"
                                + " and ending its connection failed: %s", pid, stallTimeout.toSeconds(),
                                ended.cause().getMessage());
                    } else if (!ended.result().iterator().hasNext()) {
                        LOG.debugf("The stalled bus sequencer (backend pid %d) let the lock go before it was ended",
                                pid);
                    } else if (Boolean.TRUE.equals(ended.result().iterator().next().getBoolean(0))) {
                        LOG.warnf("The bus sequencer (backend pid %d) numbered nothing for %d s while messages waited;"
                                + " its connection was ended so that another instance takes over", pid,
                                stallTimeout.toSeconds());
                    } else {
                        LOG.warnf("The bus sequencer (backend pid %d) numbered nothing for %d s while messages waited;"
                                + " PostgreSQL did not end its connection (it was ending already)", pid,
                                stallTimeout.toSeconds());
                    }
                });
    }

    /** Says once per holder what stops the bus: repeating it at every stall timeout would only fill the log. */
    private void reportOnce(int pid, String message) {
        if (reportedHolder != pid) {
            reportedHolder = pid;
            LOG.error(message);
        }
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
                        // Senders may have been told by the previous sequencer that it looks on its own, for as long
                        // as a run can say: look on its own that long, whatever its own runs tell them.
                        lookUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BusTable.MAX_AWAKE_MILLIS);
                        LOG.infof("This instance sequences the bus '%s'", table.describe());
                        // Only the sequencer hears the senders' wake-ups. Whatever was committed before the LISTEN
                        // went through is numbered by the run that follows it on the same connection.
                        listener.listenNow(client, table.writtenChannel());
                        countInstances();
                        run();
                    }
                }));
    }

    /** Counts the instances that hear each head hint, for {@link #spacing()}. */
    private void countInstances() {
        held.preparedQuery(table.listeningInstances()).execute(Tuple.of(applicationName.get()))
                .onComplete(result -> context.runOnContext(ignored -> {
                    if (result.succeeded()) {
                        instances = Math.max(1, result.result().iterator().next().getLong(0));
                    }
                }));
    }

    /** The bus's listening instances as this instance last counted them, while it sequences; else 0. */
    public long listeningInstances() {
        return sequencing ? instances : 0;
    }

    /**
     * How long after a run that numbered messages the next one waits at least, while it sequences: for the fleet's sake,
     * or while messages come fast, until about {@link #FILL} have come (as the last run found, if it was recent); else
     * zero.
     */
    public Duration runSpacing() {
        if (!sequencing) {
            return Duration.ZERO;
        }
        long fill = System.nanoTime() - filledAt < MIN_AWAKE_NANOS ? filling : 0;
        return Duration.ofNanos(Math.max(spacing(), fill));
    }

    /** How long after a run that numbered messages the next one waits at least, for the fleet's sake; 0 for none. */
    private long spacing() {
        long spacing = Math.min(MAX_SPACING_NANOS, instances * SPACING_PER_INSTANCE_NANOS);
        return spacing > POLL_NANOS ? spacing : 0;
    }

    /**
     * How long after this run the sequencer will look on its own, should it number messages: a wake-up is a
     * notification too, which would signal every listening instance while the sequencer waits out its spacing.
     */
    private long awakeTime() {
        long awake = Math.max(MIN_AWAKE_NANOS,
                Math.max(Math.max(2 * lastNumberingRun, spacing()), lingerNanos) + AWAKE_MARGIN_NANOS);
        return Math.min(awake, TimeUnit.MILLISECONDS.toNanos(BusTable.MAX_AWAKE_MILLIS));
    }

    /**
     * Takes a run that numbered {@code count} messages, committed in the {@code since} ns before it, into the recent
     * rate, and says how long after its start the next run starts: the time about {@link #FILL} messages take to come
     * at that rate, or 0 when that would be longer than the linger (the rate is low, and each message would wait) or
     * there is none.
     */
    private long fillTime(long count, long since) {
        if (since <= 0) {
            return 0;
        }
        long window = lingerNanos > 0 ? lingerNanos : RATE_WINDOW_NANOS;
        rate += Math.min(1.0, (double) since / window) * ((double) count / since - rate);
        return lingerNanos > 0 && rate * lingerNanos >= FILL ? (long) (FILL / rate) : 0;
    }

    /**
     * Whether the next run should tell the senders that the sequencer does not look on its own, so that they carry
     * their wake-ups in their own statements ({@link BusTable#insertOneWaking()}): while messages come slowly enough
     * that runs take less than {@link #CARRIED_BELOW} of the time between them (both as they went lately, so that one
     * slow run does not change it), no gathering ({@link #FILL}) and no fleet spacing applies.
     */
    private boolean quiet() {
        return filling == 0 && spacing() == 0 && rate * runTime < CARRIED_BELOW;
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
            timer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)),
                    id -> context.runOnContext(ignored -> {
                        if (pacing && timer == id) {
                            pacing = false;
                            run();
                        }
                    }));
            return;
        }
        running = true;
        again = false;
        polling = false;
        SqlClient client = held;
        long started = System.nanoTime();
        long awake = quiet() ? 0 : awakeTime();
        client.preparedQuery(table.sequence())
                .execute(Tuple.of(BATCH, knownHead.getAsLong(), table.headChannel(),
                        TimeUnit.NANOSECONDS.toMillis(awake)))
                .onComplete(
                        result -> context.runOnContext(
                                ignored -> {
                                    running = false;
                                    if (result.failed()) {
                                        // A lost connection fails one run; only a run that fails again is worth a warning.
                                        if (failures++ == 1) {
                                            LOG.warnf(
                                                    "Numbering bus messages failed (%s); the next wake-up or sweep tries again",
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
                                    long count = row.getLong(1);
                                    long ended = System.nanoTime();
                                    if (Boolean.TRUE.equals(row.getBoolean(6))) {
                                        // A sender numbered its own messages meanwhile: this run wrote nothing, and
                                        // what it found is still to be numbered.
                                        again = true;
                                    }
                                    if (count > 0) {
                                        // Every instance heard of it with the commit: the run's head hint.
                                        numbered.accept(Numbered.of(row));
                                        long fill = fillTime(count, started - lastNumberingStart);
                                        lastNumberingRun = ended - started;
                                        runTime += 0.2 * (lastNumberingRun - runTime);
                                        lastNumberingStart = started;
                                        filling = fill;
                                        filledAt = ended;
                                        lookUntil = Math.max(lookUntil, ended + awake);
                                        // A run that numbered many rows committed, and so waited for a disk flush, during which
                                        // the senders' commits queued behind it. Leaving the disk to the senders for a few times
                                        // as long keeps the sequencer's share of the flushes (and of transaction ids) small.
                                        // Then it runs again without being woken: senders that see it was busy send none.
                                        // After a small run it looks again as it does when busy (at once if woken meanwhile), and
                                        // a wake-up cuts that short.
                                        // With many listening instances, the next hint waits its turn whatever woke it.
                                        // While messages come fast, the next run waits until about FILL have come,
                                        // whatever wakes it meanwhile.
                                        boolean small = count < PACED_FROM;
                                        if (count == BATCH) {
                                            notBefore = 0;
                                        } else if (small && fill == 0) {
                                            notBefore = again ? 0 : ended + POLL_NANOS;
                                        } else {
                                            notBefore = Math.max(started + fill, small ? 0
                                                    : ended + Math.min(MAX_PAUSE_NANOS, PAUSE_FACTOR * (ended - started)));
                                        }
                                        long spacing = spacing();
                                        boolean spaced = spacing > 0 && ended + spacing > notBefore;
                                        if (spaced) {
                                            notBefore = ended + spacing;
                                        }
                                        if (small && fill == 0 && !spaced && !again && lookUntil - ended <= 0) {
                                            // Nobody skips a wake-up (the run said the sequencer does not look on its
                                            // own, and no earlier run's time is left): wait for one.
                                            notBefore = 0;
                                            return;
                                        }
                                        run();
                                        polling = small && fill == 0 && pacing && !spaced;
                                    } else if (again) {
                                        run();
                                    } else if (started - lookUntil < 0) {
                                        // Senders skip their wake-up until the time the last numbering run gave them:
                                        // look again soon, until a run has started after it (its snapshot sees their
                                        // commits).
                                        notBefore = ended + POLL_NANOS;
                                        run();
                                        polling = pacing;
                                    }
                                }));
    }
}
