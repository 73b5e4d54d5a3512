package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Reads the bus's head from the state row and acts on it: readers behind it read on; a change of the database's
 * history (another epoch, a head below one already read, another cluster) starts a new epoch that every reader takes
 * up. Asked by the sequencer's head hints, by the sweep, and by the sequencer when it finds the head gone back.
 * <p>
 * A hint is not trusted: anyone can NOTIFY, and a replayed or forged hint must cost little. Each instance answers
 * the hints for channels it reads (and those that name none) with one read of the state row, however many arrive while
 * it is under way (they make one more read), and only readers behind the head read: a flood of hints costs reads of
 * one row.
 */
final class HeadWatch {

    private static final Logger LOG = Logger.getLogger(HeadWatch.class);

    private final ListenerConnection connection;
    private final BusTable table;
    private final ChannelRouter router;
    private final KnownHead knownHead;
    /** A new epoch is being started: the head is left alone meanwhile. */
    private final AtomicBoolean changingHistory = new AtomicBoolean();
    /** The channels of the hints since the last read began: empty for every channel, null for none. */
    private Optional<Set<String>> pending;
    private boolean reading;
    /** The cluster and timeline the listening connection last reached; null before the first look. */
    private volatile ServerIdentity server;

    private record ServerIdentity(String system, int timeline) {
    }

    HeadWatch(ListenerConnection connection, BusTable table, ChannelRouter router, KnownHead knownHead) {
        this.connection = connection;
        this.table = table;
        this.router = router;
        this.knownHead = knownHead;
    }

    /**
     * Messages of {@code channels} (empty: of any channel) may have been numbered: reads the head, then their readers
     * behind it read on. Any thread.
     */
    void check(Optional<Set<String>> channels) {
        synchronized (this) {
            pending = merged(pending, channels);
            if (reading) {
                return;
            }
            reading = true;
        }
        read();
    }

    /** Every reader behind the head reads on, or the history change is taken up. */
    void checkAll() {
        check(Optional.empty());
    }

    private static Optional<Set<String>> merged(Optional<Set<String>> pending, Optional<Set<String>> channels) {
        if (pending == null) {
            return channels;
        }
        if (pending.isEmpty() || channels.isEmpty()) {
            return Optional.empty();
        }
        Set<String> both = new HashSet<>(pending.get());
        both.addAll(channels.get());
        return Optional.of(both);
    }

    private void read() {
        Optional<Set<String>> channels;
        synchronized (this) {
            channels = pending;
            pending = null;
        }
        SqlClient client = connection.sqlClient();
        if (client == null || changingHistory.get()) {
            // Disconnected (its return wakes every reader) or taking up another history (which does too).
            readAgainOrStop();
            return;
        }
        client.query(table.head()).execute().onComplete(result -> {
            if (result.succeeded()) {
                Row row = result.result().iterator().next();
                headRead(client, row.getLong(0), row.getLong(1), row.getLong(2), row.getBoolean(3), channels);
            }
            readAgainOrStop();
        });
    }

    private void readAgainOrStop() {
        synchronized (this) {
            if (pending == null) {
                reading = false;
                return;
            }
        }
        read();
    }

    private void headRead(SqlClient client, long epoch, long head, long base, boolean copied,
            Optional<Set<String>> channels) {
        if (changingHistory.get()) {
            return;
        }
        if (copied) {
            // The state row's transaction ids are another cluster's: the sequencer numbers nothing until the copy is
            // taken up.
            startNewEpoch(client, table.startNewEpoch(), epoch,
                    "the bus table was copied from another database or cluster");
        } else if (epoch != knownHead.epoch()) {
            historyChanged(epoch, head, base, "the bus table is in another epoch (" + epoch + ", this instance was in "
                    + knownHead.epoch() + ")");
        } else if (head < knownHead.get()) {
            // The same epoch, but the head went back: the database is an earlier copy of itself. Positions after the
            // head would be handed out again: a new epoch keeps them apart from those of the lost history.
            startNewEpoch(client, table.newEpoch(), epoch,
                    "the head went back from " + knownHead.get() + " to " + head + " in epoch " + epoch);
        } else {
            knownHead.seen(head);
            router.headRead(head, channels);
        }
    }

    /**
     * At each (re)connection of the listening connection: which PostgreSQL cluster it reached, and on which timeline.
     * Another timeline means a standby was promoted (a failover): the head is checked at once, so that an
     * asynchronous standby's missing commits are noticed before the next sweep. Another system identifier means
     * another cluster altogether: the positions seen before mean nothing there, and a new epoch begins. A role that
     * may not call {@code pg_control_system()} (some managed databases revoke it) skips the check. On an event loop.
     */
    void checkServer() {
        SqlClient client = connection.sqlClient();
        if (client == null) {
            return;
        }
        // The timeline of the WAL being written: the last checkpoint's (pg_control_checkpoint()) still names the old
        // one for a while after a promotion, until the end-of-recovery checkpoint completes.
        client.query("SELECT (pg_control_system()).system_identifier::text, CASE WHEN pg_is_in_recovery() THEN"
                + " (pg_control_checkpoint()).timeline_id ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1,"
                + " 8))::bit(32)::int END")
                .execute().onComplete(result -> {
                    if (result.failed()) {
                        LOG.debugf("Cannot read the server's identity: %s", result.cause().getMessage());
                        return;
                    }
                    Row row = result.result().iterator().next();
                    ServerIdentity now = new ServerIdentity(row.getString(0), row.getInteger(1));
                    ServerIdentity before = server;
                    server = now;
                    if (before == null || before.equals(now)) {
                        return;
                    }
                    if (!before.system().equals(now.system())) {
                        startNewEpoch(client, table.startNewEpoch(), knownHead.epoch(),
                                "the listening connection reached another"
                                        + " PostgreSQL cluster (system"
                                        + " identifier " + now.system() + ", was " + before.system() + ")");
                    } else {
                        LOG.warnf("PostgreSQL moved from timeline %d to %d (a standby was promoted): checking that"
                                + " the bus's history is the one this instance read", before.timeline(),
                                now.timeline());
                        checkAll();
                    }
                });
    }

    /**
     * Starts a new epoch from {@code epoch}, with {@code sql} ({@link BusTable#newEpoch()}, or {@link
     * BusTable#startNewEpoch()} in another cluster's copy), then takes it up.
     */
    private void startNewEpoch(SqlClient client, String sql, long epoch, String why) {
        if (!changingHistory.compareAndSet(false, true)) {
            return;
        }
        client.preparedQuery(sql).execute(Tuple.of(epoch)).onComplete(changed -> {
            changingHistory.set(false);
            if (changed.succeeded()) {
                Row now = changed.result().iterator().next();
                historyChanged(now.getLong(0), now.getLong(1), now.getLong(2), why);
            }
        });
    }

    /**
     * The database's history changed under the instance (a restored or promoted copy): what was numbered after
     * {@code base}, where the new epoch began, is not what this instance saw there. Said once per change, then every
     * reader goes on from the new epoch's beginning.
     */
    private synchronized void historyChanged(long epoch, long head, long base, String what) {
        if (epoch == knownHead.epoch()) {
            // Taken up already, by another read of the head.
            return;
        }
        long seen = knownHead.get();
        LOG.errorf("The history of the bus table '%s' changed while this instance ran: %s. The database was restored"
                + " from or replaced by an earlier copy: what this instance saw numbered after position %d (up to %d)"
                + " is not in it. The bus goes on in epoch %d from position %d: listeners and groups read on from"
                + " there, HTTP clients are told to reload.", table.describe(), what, base, seen, epoch, base);
        knownHead.adopt(epoch, head);
        router.historyChanged(base);
    }
}
