package io.quarkiverse.busaltconnection.runtime.dispatch;

import io.quarkiverse.busaltconnection.runtime.store.GroupPositions;

/**
 * One call of a group member with one message: the move of the group's position past it, from the position the
 * member read. The group makes the move in the call's transaction after the call, unless a transaction of the
 * consumer's own made it first ({@link #moveInCurrentTransaction}, then {@link #moved}): a Quarkus Messaging method
 * runs on a thread of its own, so its {@code @Transactional} writes and the move commit together only if its
 * transaction moves the position itself.
 */
public final class GroupDelivery {

    private final GroupPositions positions;
    private final GroupPositions.Partition partition;
    private final long from;
    private final long to;
    private final int attempt;
    private volatile boolean moved;
    private volatile GroupPositions.PositionMoved movedElsewhere;

    GroupDelivery(GroupPositions positions, GroupPositions.Partition partition, long from, long to, int attempt) {
        this.positions = positions;
        this.partition = partition;
        this.from = from;
        this.to = to;
        this.attempt = attempt;
    }

    /** Which call of this message this is: 1 for the first, more for retries. */
    public int attempt() {
        return attempt;
    }

    public GroupPositions.Partition partition() {
        return partition;
    }

    /**
     * Moves the position in the transaction of the calling thread, through the bus's datasource.
     *
     * @throws GroupPositions.PositionMoved if another instance moved it meanwhile (also remembered: see
     *         {@link #movedElsewhere})
     */
    public void moveInCurrentTransaction() {
        try {
            positions.advance(partition, from, to);
        } catch (GroupPositions.PositionMoved e) {
            movedElsewhere = e;
            throw e;
        }
    }

    /** The transaction that moved the position committed. */
    public void committed() {
        moved = true;
    }

    /** Whether a transaction of the consumer's own moved the position and committed. */
    public boolean moved() {
        return moved;
    }

    /** Set when the consumer's transaction found the position moved by another instance; else null. */
    public GroupPositions.PositionMoved movedElsewhere() {
        return movedElsewhere;
    }
}
