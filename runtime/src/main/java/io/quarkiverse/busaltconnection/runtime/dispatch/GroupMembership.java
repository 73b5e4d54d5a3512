package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.vertx.core.Context;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * This instance's membership of a durable consumer group on a channel, and its share of the group's partitions. Every
 * member holds a shared advisory lock on its listening connection, so that each sees from {@code pg_locks} who the
 * members are and who owns which partition, without a table to write to: a member that ends releases everything with
 * its connection. At every sweep a member takes free partitions up to its fair share (the partitions divided by the
 * members, some members taking one more), and a member above its share gives one back while another is below it.
 * A member whose listening connection has run nothing for the stall timeout (its JVM frozen: a long GC pause,
 * SIGSTOP) while it owns partitions has its connection ended by another member, as a wedged sequencer's is: a live
 * member runs a statement on it at every sweep. All on the listener's context, as its partitions' state is.
 */
final class GroupMembership {

    private static final Logger LOG = Logger.getLogger(GroupMembership.class);

    private final List<GroupCursor> partitions;
    private final String group;
    private final String channel;
    private final ListenerConnection connection;
    private final BusTable table;
    private final Context context;
    private final Duration stallTimeout;
    /** The listening connection on which this instance holds the membership lock; null when it does not. */
    private SqlClient joinedOn;
    private boolean asking;
    private boolean closed;
    /** When a frozen member's connection was last ended, so that it is not ended again while it goes. */
    private final Map<Integer, Long> ended = new HashMap<>();

    /**
     * @param partitions this instance's cursor of each partition, in partition order
     * @param stallTimeout how long a member's listening connection may run nothing before it counts as frozen
     */
    GroupMembership(List<GroupCursor> partitions, ListenerConnection connection, BusTable table, Duration stallTimeout) {
        this.partitions = partitions;
        this.group = partitions.get(0).method().group;
        this.channel = partitions.get(0).method().channel;
        this.connection = connection;
        this.table = table;
        this.context = partitions.get(0).context();
        this.stallTimeout = stallTimeout;
    }

    /** Every sweep: the partitions this instance owns read on, and the shares are looked at. Any thread. */
    void sweep() {
        partitions.forEach(GroupCursor::sweep);
        context.runOnContext(ignored -> {
            SqlClient client = connection.sqlClient();
            if (closed || asking || client == null) {
                return;
            }
            asking = true;
            if (joinedOn == client) {
                balance(client);
                return;
            }
            client.preparedQuery("SELECT pg_try_advisory_lock_shared(" + BusTable.groupMemberLockSql() + ")")
                    .execute(Tuple.of(table.groupMemberLockKey(group, channel)))
                    .onComplete(result -> context.runOnContext(ignored2 -> {
                        if (result.succeeded() && result.result().iterator().next().getBoolean(0)) {
                            joinedOn = client;
                            balance(client);
                        } else {
                            asking = false;
                            LOG.debugf("Group '%s' could not join on channel '%s': %s", group, channel,
                                    result.failed() ? result.cause().getMessage() : "the lock is held exclusively");
                        }
                    }));
        });
    }

    void close() {
        context.runOnContext(ignored -> closed = true);
    }

    private void balance(SqlClient client) {
        client.preparedQuery(table.groupAssignment())
                .execute(Tuple.of(table.groupMemberLockKey(group, channel), table.groupPartitionLockPrefix(group),
                        partitions.size(), channel))
                .onComplete(result -> context.runOnContext(ignored -> {
                    asking = false;
                    if (result.failed()) {
                        LOG.debugf("Group '%s' could not see its members on channel '%s': %s", group, channel,
                                result.cause().getMessage());
                        return;
                    }
                    if (!closed && client == connection.sqlClient()) {
                        List<Row> rows = new ArrayList<>();
                        result.result().forEach(rows::add);
                        balance(client, rows);
                    }
                }));
    }

    /**
     * One look at the assignment: rows of partition, holder pid (null if free), the holder's state and seconds since
     * its last statement (null where not visible), this backend's pid, the members' pids.
     */
    private void balance(SqlClient client, List<Row> rows) {
        int me = rows.get(0).getInteger(4);
        Object[] memberPids = rows.get(0).getArrayOfIntegers(5);
        int members = Math.max(1, memberPids == null ? 0 : memberPids.length);
        int count = partitions.size();
        int low = count / members;
        int high = (count + members - 1) / members;
        Map<Integer, Integer> owned = new HashMap<>();
        if (memberPids != null) {
            for (Object pid : memberPids) {
                owned.put((Integer) pid, 0);
            }
        }
        List<Integer> free = new ArrayList<>();
        for (Row row : rows) {
            Integer holder = row.getInteger(1);
            if (holder == null) {
                free.add(row.getInteger(0));
            } else {
                owned.merge(holder, 1, Integer::sum);
                endIfFrozen(client, row, holder, me);
            }
        }
        if (partitions.stream().anyMatch(GroupCursor::releasing)) {
            // One given back at a time: the shares are looked at again once it is gone.
            return;
        }
        long mine = partitions.stream().filter(GroupCursor::owns).count();
        boolean otherBelowShare = owned.entrySet().stream().anyMatch(e -> e.getKey() != me && e.getValue() < low);
        if (mine > high || (mine > low && otherBelowShare)) {
            // Give one back at a time, the highest first: the others take it at their next sweep.
            partitions.stream().filter(GroupCursor::owns).reduce((first, second) -> second)
                    .ifPresent(GroupCursor::release);
            return;
        }
        long wanted = mine < low ? low - mine : (mine < high && !otherBelowShare ? 1 : 0);
        if (wanted == 0 || free.isEmpty()) {
            return;
        }
        // Members starting together try different free partitions first.
        int start = ThreadLocalRandom.current().nextInt(free.size());
        for (int i = 0; i < free.size() && wanted > 0; i++) {
            GroupCursor partition = partitions.get(free.get((start + i) % free.size()));
            if (!partition.owns()) {
                partition.take();
                wanted--;
            }
        }
    }

    private void endIfFrozen(SqlClient client, Row row, int holder, int me) {
        String state = row.getString(2);
        Double idle = row.getDouble(3);
        if (holder == me || !"idle".equals(state) || idle == null || idle < stallTimeout.toSeconds()) {
            return;
        }
        long now = System.nanoTime();
        Long last = ended.get(holder);
        if (last != null && now - last < stallTimeout.toNanos()) {
            return;
        }
        ended.values().removeIf(at -> now - at > 2 * stallTimeout.toNanos());
        ended.put(holder, now);
        LOG.warnf("Group '%s': the member owning partition %d on channel '%s' (backend pid %d) has run nothing for"
                + " %.0f s; ending its connection so that the partition is taken over", group, row.getInteger(0),
                channel, holder, idle);
        client.preparedQuery("SELECT pg_terminate_backend($1)").execute(Tuple.of(holder))
                .onComplete(result -> {
                    if (result.succeeded() && !result.result().iterator().next().getBoolean(0)) {
                        LOG.warnf("Group '%s': PostgreSQL did not end backend %d (another role's, or gone)", group,
                                holder);
                    }
                });
    }
}
