package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.List;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.sequence.Sequencer;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

/**
 * What every sweep interval does, so that nothing rests on a notification arriving: the sequencer numbers what a lost
 * wake-up left behind, readers whose last read failed read again, group members take their group if it is free,
 * and a look at the head wakes every reader if it moved unheard, or finds that the table's epoch changed under the
 * instance.
 */
final class BusSweep {

    private static final Logger LOG = Logger.getLogger(BusSweep.class);

    private final ListenerConnection connection;
    private final BusTable table;
    private final Sequencer sequencer;
    private final List<? extends PageLoop> readers;
    private final List<GroupCursor> groups;
    private final ChannelRouter router;
    private final KnownHead knownHead;
    private volatile boolean watchQueue;
    private volatile double queueUsage = Double.NaN;

    BusSweep(ListenerConnection connection, BusTable table, Sequencer sequencer, List<? extends PageLoop> readers,
            List<GroupCursor> groups, ChannelRouter router, KnownHead knownHead) {
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
        groups.forEach(GroupCursor::sweep);
        SqlClient client = connection.sqlClient();
        if (client == null) {
            return;
        }
        if (watchQueue) {
            client.query("SELECT pg_notification_queue_usage()").execute()
                    .onSuccess(rows -> queueUsage = rows.iterator().next().getDouble(0));
        }
        client.query(table.head()).execute().onSuccess(rows -> {
            Row row = rows.iterator().next();
            if (row.getLong(0) != knownHead.epoch()) {
                // Once: the sweep comes every second, and the cure (a restart) is the same each time.
                if (knownHead.epochChanged()) {
                    LOG.errorf("The bus table '%s' changed its epoch while this instance ran (it was replaced by a"
                            + " restored copy?); restart the application to deliver from the new epoch",
                            table.describe());
                }
                return;
            }
            router.headMoved(row.getLong(1));
        });
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
