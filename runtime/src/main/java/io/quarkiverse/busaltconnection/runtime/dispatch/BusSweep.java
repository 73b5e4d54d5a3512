package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.sequence.Sequencer;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * What every sweep interval does, so that nothing rests on a notification arriving: the sequencer numbers what a lost
 * wake-up left behind, readers whose last read failed read again, group members take their group if it is free,
 * and a look at the head wakes every reader if it moved unheard, or finds that the database's history changed under
 * the instance (another epoch, or a head lower than one already seen).
 */
final class BusSweep {

    private static final Logger LOG = Logger.getLogger(BusSweep.class);

    private final ListenerConnection connection;
    private final BusTable table;
    private final Sequencer sequencer;
    private final List<? extends PageLoop> readers;
    private final List<GroupMembership> groups;
    private final ChannelRouter router;
    private final KnownHead knownHead;
    private volatile boolean watchQueue;
    /** A new epoch is being started: the sweeps and the sequencer's reports meanwhile leave the head alone. */
    private final AtomicBoolean changingHistory = new AtomicBoolean();
    private volatile double queueUsage = Double.NaN;
    /** The cluster and timeline the listening connection last reached; null before the first look. */
    private volatile ServerIdentity server;

    private record ServerIdentity(String system, int timeline) {
    }

    BusSweep(ListenerConnection connection, BusTable table, Sequencer sequencer, List<? extends PageLoop> readers,
            List<GroupMembership> groups, ChannelRouter router, KnownHead knownHead) {
        this.groups = groups;
        this.connection = connection;
        this.table = table;
        this.sequencer = sequencer;
        this.readers = readers;
        this.router = router;
        this.knownHead = knownHead;
    }

    void run() {
        sequencer.sweep();
        readers.forEach(PageLoop::retryIfFailed);
        groups.forEach(GroupMembership::sweep);
        SqlClient client = connection.sqlClient();
        if (client == null) {
            return;
        }
        if (watchQueue) {
            client.query("SELECT pg_notification_queue_usage()").execute()
                    .onSuccess(rows -> queueUsage = rows.iterator().next().getDouble(0));
        }
        checkHead();
    }

    /**
     * Reads the head: wakes every reader if it moved unheard, or takes up a change of the database's history: another
     * epoch, or a head below one already read (then this instance starts a new epoch). Also run when the sequencer
     * finds the head gone back. On an event loop.
     */
    void checkHead() {
        SqlClient client = connection.sqlClient();
        if (client == null || changingHistory.get()) {
            return;
        }
        client.query(table.head()).execute().onSuccess(rows -> {
            Row row = rows.iterator().next();
            long epoch = row.getLong(0);
            long head = row.getLong(1);
            if (changingHistory.get()) {
                return;
            }
            if (epoch != knownHead.epoch()) {
                historyChanged(epoch, head, row.getLong(2), "the bus table is in another epoch (" + epoch + ", this"
                        + " instance was in " + knownHead.epoch() + ")");
            } else if (head < knownHead.get()) {
                // The same epoch, but the head went back: the database is an earlier copy of itself. Positions after
                // the head would be handed out again: a new epoch keeps them apart from those of the lost history.
                startNewEpoch(client, "the head went back from " + knownHead.get() + " to " + head + " in epoch "
                        + epoch);
            } else if (head >= knownHead.get()) {
                router.headMoved(head);
            }
        });
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
        client.query("SELECT (pg_control_system()).system_identifier::text, (pg_control_checkpoint()).timeline_id")
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
                        startNewEpoch(client, "the listening connection reached another PostgreSQL cluster (system"
                                + " identifier " + now.system() + ", was " + before.system() + ")");
                    } else {
                        LOG.warnf("PostgreSQL moved from timeline %d to %d (a standby was promoted): checking that"
                                + " the bus's history is the one this instance read", before.timeline(),
                                now.timeline());
                        checkHead();
                    }
                });
    }

    /** Starts a new epoch from the one this instance is in, then takes it up. */
    private void startNewEpoch(SqlClient client, String why) {
        if (!changingHistory.compareAndSet(false, true)) {
            return;
        }
        long epoch = knownHead.epoch();
        client.preparedQuery(table.newEpoch()).execute(Tuple.of(epoch)).onComplete(changed -> {
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
            // Taken up already, by the other of the sweep and the sequencer's report.
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

    /** Reads {@code pg_notification_queue_usage()} too from now on: only when something shows it. */
    void watchNotificationQueue() {
        watchQueue = true;
    }

    /** The fraction of PostgreSQL's notification queue in use at the last sweep; NaN before the first. */
    double notificationQueueUsage() {
        return queueUsage;
    }
}
