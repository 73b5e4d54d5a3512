package io.quarkiverse.busaltconnection.runtime.sequence;

import java.util.function.Consumer;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

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

    private final BusTable table;
    private final Supplier<SqlClient> connection;
    private final Consumer<HeadHint> onAdvanced;
    private final Context context;
    /** The connection on which this instance holds the lock; null when it does not. */
    private SqlClient held;
    private boolean running;
    private boolean again;
    private int failures;
    private volatile boolean sequencing;
    private volatile long runs;

    /**
     * @param connection the listening connection, null while it is down
     * @param onAdvanced told the new head, and the channels when few, after each run that numbered rows, on the
     *        sequencer's context
     */
    public Sequencer(Vertx vertx, BusTable table, Supplier<SqlClient> connection, Consumer<HeadHint> onAdvanced) {
        this.table = table;
        this.connection = connection;
        this.onAdvanced = onAdvanced;
        this.context = ((VertxInternal) vertx).createEventLoopContext();
    }

    /** Whether this instance is the database's sequencer right now. */
    public boolean sequencing() {
        return sequencing;
    }

    /** How many runs numbered rows since startup. */
    public long runs() {
        return runs;
    }

    /** A sender's wake-up: rows were committed. */
    public void onWritten() {
        context.runOnContext(ignored -> run());
    }

    /** The periodic sweep: take the lock if it is free, number what a lost wake-up left behind. */
    public void sweep() {
        context.runOnContext(ignored -> {
            if (holder()) {
                run();
            } else {
                tryToLead();
            }
        });
    }

    /** The listening connection is (again) up: a new session, which holds no lock yet. */
    public void onListening() {
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
                .execute(Tuple.of(table.name()))
                .onComplete(result -> context.runOnContext(ignored -> {
                    if (result.succeeded() && result.result().iterator().next().getBoolean(0)
                            && client == connection.get()) {
                        held = client;
                        sequencing = true;
                        LOG.infof("This instance sequences the bus '%s'", table.name());
                        run();
                    }
                }));
    }

    private void run() {
        if (!holder()) {
            return;
        }
        if (running) {
            again = true;
            return;
        }
        running = true;
        again = false;
        SqlClient client = held;
        client.preparedQuery(table.sequence()).execute(Tuple.of(BATCH)).onComplete(result -> context.runOnContext(
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
                    long head = row.getLong(0);
                    long numbered = row.getLong(1);
                    if (numbered > 0) {
                        runs++;
                        String[] channels = row.getArrayOfStrings(2);
                        String hint = HeadHint.encode(head, channels);
                        client.preparedQuery("SELECT pg_notify($1, $2)").execute(Tuple.of(table.headChannel(), hint));
                        onAdvanced.accept(HeadHint.decode(hint));
                    }
                    if (again || numbered == BATCH) {
                        run();
                    }
                }));
    }
}
