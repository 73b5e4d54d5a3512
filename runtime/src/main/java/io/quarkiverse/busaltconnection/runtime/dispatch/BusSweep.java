package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.List;

import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.sequence.Sequencer;
import io.vertx.sqlclient.SqlClient;

/**
 * What every sweep interval does, so that nothing rests on a notification arriving: the sequencer numbers what a lost
 * wake-up left behind, readers whose last read failed read again, group members take their group if it is free,
 * and a look at the head ({@link HeadWatch}) wakes every reader behind it if it moved unheard, or finds that the
 * database's history changed under the instance.
 */
final class BusSweep {

    private final ListenerConnection connection;
    private final Sequencer sequencer;
    private final List<? extends PageLoop> readers;
    private final List<GroupMembership> groups;
    private final HeadWatch head;
    private volatile boolean watchQueue;
    private volatile double queueUsage = Double.NaN;

    BusSweep(ListenerConnection connection, Sequencer sequencer, List<? extends PageLoop> readers,
            List<GroupMembership> groups, HeadWatch head) {
        this.groups = groups;
        this.connection = connection;
        this.sequencer = sequencer;
        this.readers = readers;
        this.head = head;
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
        head.checkAll();
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
