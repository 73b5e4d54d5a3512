package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.OptionalLong;

import javax.sql.DataSource;

import io.quarkiverse.busaltconnection.BusException;

/**
 * Where durable consumer groups are, stored in the bus table's companion {@code
 *
<table>
 * _groups}, through the bus's
 * datasource: so that moving a group's position commits in the transaction of the call it records.
 */
public final class GroupPositions {

    private final DataSource dataSource;
    private final BusTable table;

    public GroupPositions(DataSource dataSource, BusTable table) {
        this.dataSource = dataSource;
        this.table = table;
    }

    /** Another instance moved the group's position since it was read: this one's call must not commit. */
    public static final class PositionMoved extends RuntimeException {

        private static final long serialVersionUID = 1L;

        PositionMoved(String group, String channel, long expected) {
            super("the position of group '" + group + "' on channel '" + channel + "' is no longer " + expected
                    + ": another instance delivered the message", null, false, false);
        }
    }

    /**
     * The group's position on the channel, storing its first one if it has none: the head, or with
     * {@code earliest} just before the oldest message the table holds on the channel. Its own transaction.
     */
    public long start(String group, String channel, boolean earliest) {
        try (Connection connection = dataSource.getConnection()) {
            try (PreparedStatement start = connection.prepareStatement(table.groupStart())) {
                start.setString(1, group);
                start.setString(2, channel);
                start.setBoolean(3, earliest);
                start.setString(4, channel);
                start.executeUpdate();
            }
            return read(connection, group, channel);
        } catch (SQLException e) {
            throw new BusException("Cannot read the position of group '" + group + "' on channel '" + channel
                    + "': " + e.getMessage(), e);
        }
    }

    private long read(Connection connection, String group, String channel) throws SQLException {
        try (PreparedStatement read = connection.prepareStatement(table.groupPosition())) {
            read.setString(1, group);
            read.setString(2, channel);
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
    public void advance(String group, String channel, long from, long to) {
        try (Connection connection = dataSource.getConnection()) {
            if (!move(connection, group, channel, from, to)) {
                throw new PositionMoved(group, channel, from);
            }
        } catch (SQLException e) {
            throw new BusException("Cannot move the position of group '" + group + "' on channel '" + channel
                    + "': " + e.getMessage(), e);
        }
    }

    /**
     * After the database's history went back to {@code head}: a stored position past it belongs to the lost history,
     * and would skip the messages numbered there anew. Moves it back to {@code head}. Its own transaction.
     *
     * @return the position it had, if it was past {@code head}
     */
    public OptionalLong clampTo(String group, String channel, long head) {
        try (Connection connection = dataSource.getConnection()) {
            long position = read(connection, group, channel);
            if (position <= head) {
                return OptionalLong.empty();
            }
            move(connection, group, channel, position, head);
            return OptionalLong.of(position);
        } catch (SQLException e) {
            throw new BusException("Cannot move the position of group '" + group + "' on channel '" + channel
                    + "' back to the head: " + e.getMessage(), e);
        }
    }

    /** Moves the position from {@code from} to {@code to}; false if it was no longer {@code from}. */
    private boolean move(Connection connection, String group, String channel, long from, long to)
            throws SQLException {
        try (PreparedStatement advance = connection.prepareStatement(table.groupAdvance())) {
            advance.setLong(1, to);
            advance.setString(2, group);
            advance.setString(3, channel);
            advance.setLong(4, from);
            return advance.executeUpdate() > 0;
        }
    }
}
