package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.OptionalLong;

import javax.sql.DataSource;

import io.quarkiverse.busaltconnection.BusException;

/**
 * Where durable consumer groups are, stored in the bus table's companion (the table's name followed by
 * {@code _groups}), one row per group, channel and partition, through the bus's datasource: so that moving a
 * partition's position commits in the transaction of the call it records.
 */
public final class GroupPositions {

    private final DataSource dataSource;
    private final BusTable table;

    public GroupPositions(DataSource dataSource, BusTable table) {
        this.dataSource = dataSource;
        this.table = table;
    }

    /** One partition of a group on a channel; a group without partitions has the one partition 0 of 1. */
    public record Partition(String group, String channel, int partition, int partitions) {

        @Override
        public String toString() {
            return partitions == 1 ? "group '" + group + "' on channel '" + channel + "'"
                    : "partition " + partition + " of group '" + group + "' on channel '" + channel + "'";
        }
    }

    /**
     * Where a partition starts.
     *
     * @param repartitioned the number of partitions the group had before, when it had another: every partition
     *        started again at the lowest position of the old ones
     */
    public record Start(long position, OptionalLong repartitioned) {
    }

    /** Another instance moved the partition's position since it was read: this one's call must not commit. */
    public static final class PositionMoved extends RuntimeException {

        private static final long serialVersionUID = 1L;

        PositionMoved(Partition partition, long expected) {
            super("the position of " + partition + " is no longer " + expected + ": another instance delivered the"
                    + " message", null, false, false);
        }
    }

    /**
     * The partition's position, storing its first one if it has none: the lowest position of the group's other
     * partitions on the channel (none of their messages is skipped), else the head, or with {@code earliest} just
     * before the oldest message the table holds on the channel. A group stored with another number of partitions
     * has each key in another partition now: all its partitions start again at the lowest position of the old ones
     * (messages between it and the highest are delivered again). Its own transaction.
     */
    public Start start(Partition partition, boolean earliest) {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                Start start = start(connection, partition, earliest);
                connection.commit();
                return start;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new BusException("Cannot read the position of " + partition + ": " + e.getMessage(), e);
        }
    }

    private Start start(Connection connection, Partition partition, boolean earliest) throws SQLException {
        OptionalLong lowest = OptionalLong.empty();
        OptionalLong otherCount = OptionalLong.empty();
        try (PreparedStatement rows = connection.prepareStatement(table.groupPartitions())) {
            rows.setString(1, partition.group());
            rows.setString(2, partition.channel());
            try (ResultSet row = rows.executeQuery()) {
                while (row.next()) {
                    long position = row.getLong(2);
                    lowest = OptionalLong.of(lowest.isPresent() ? Math.min(lowest.getAsLong(), position) : position);
                    if (row.getInt(3) != partition.partitions()) {
                        otherCount = OptionalLong.of(row.getInt(3));
                    }
                }
            }
        }
        if (otherCount.isPresent()) {
            repartition(connection, partition, lowest.getAsLong());
        }
        try (PreparedStatement start = connection.prepareStatement(table.groupStart())) {
            start.setString(1, partition.group());
            start.setString(2, partition.channel());
            start.setInt(3, partition.partition());
            start.setInt(4, partition.partitions());
            if (lowest.isPresent()) {
                start.setLong(5, lowest.getAsLong());
            } else {
                start.setNull(5, Types.BIGINT);
            }
            start.setBoolean(6, earliest);
            start.setString(7, partition.channel());
            start.executeUpdate();
        }
        return new Start(read(connection, partition), otherCount);
    }

    private void repartition(Connection connection, Partition partition, long position) throws SQLException {
        try (PreparedStatement all = connection.prepareStatement(table.groupRepartition())) {
            all.setLong(1, position);
            all.setInt(2, partition.partitions());
            all.setString(3, partition.group());
            all.setString(4, partition.channel());
            all.executeUpdate();
        }
        try (PreparedStatement drop = connection.prepareStatement(table.groupDropPartitions())) {
            drop.setString(1, partition.group());
            drop.setString(2, partition.channel());
            drop.setInt(3, partition.partitions());
            drop.executeUpdate();
        }
    }

    private long read(Connection connection, Partition partition) throws SQLException {
        try (PreparedStatement read = connection.prepareStatement(table.groupPosition())) {
            read.setString(1, partition.group());
            read.setString(2, partition.channel());
            read.setInt(3, partition.partition());
            try (ResultSet row = read.executeQuery()) {
                if (!row.next()) {
                    throw new SQLException("no position is stored");
                }
                return row.getLong(1);
            }
        }
    }

    /**
     * Moves the position from {@code from} to {@code to}, in the caller's transaction.
     *
     * @throws PositionMoved if it is no longer {@code from}
     */
    public void advance(Partition partition, long from, long to) {
        try (Connection connection = dataSource.getConnection()) {
            if (!move(connection, partition, from, to)) {
                throw new PositionMoved(partition, from);
            }
        } catch (SQLException e) {
            throw new BusException("Cannot move the position of " + partition + ": " + e.getMessage(), e);
        }
    }

    /**
     * After the database's history went back to {@code head}: a stored position past it belongs to the lost history,
     * and would skip the messages numbered there anew. Moves it back to {@code head}. Its own transaction.
     *
     * @return the position it had, if it was past {@code head}
     */
    public OptionalLong clampTo(Partition partition, long head) {
        try (Connection connection = dataSource.getConnection()) {
            long position = read(connection, partition);
            if (position <= head) {
                return OptionalLong.empty();
            }
            move(connection, partition, position, head);
            return OptionalLong.of(position);
        } catch (SQLException e) {
            throw new BusException("Cannot move the position of " + partition + " back to the head: "
                    + e.getMessage(), e);
        }
    }

    /** Moves the position from {@code from} to {@code to}; false if it was no longer {@code from}. */
    private boolean move(Connection connection, Partition partition, long from, long to) throws SQLException {
        try (PreparedStatement advance = connection.prepareStatement(table.groupAdvance())) {
            advance.setLong(1, to);
            advance.setString(2, partition.group());
            advance.setString(3, partition.channel());
            advance.setInt(4, partition.partition());
            advance.setLong(5, from);
            advance.setInt(6, partition.partitions());
            return advance.executeUpdate() > 0;
        }
    }
}
