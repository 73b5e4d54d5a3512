package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import org.jboss.logging.Logger;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusException;

/**
 * Retention by whole slots. Senders write into one slot of the message and positions tables, the one of the id
 * sequence's block ({@link BusTable#slotOf}); once that slot has been written for a rotation period, and the next one
 * is empty, the sequence moves on to the next block, and so to the next slot ({@link #rotate}). A slot left behind is
 * emptied with one {@code TRUNCATE}, oldest first, once retention would delete every message in it
 * ({@link #truncateOldest}): no dead rows for vacuum, no index entries to remove one by one. Each step takes a
 * transaction advisory lock, so that the instances running retention at the same time do it once.
 */
public class BusSlots {

    private static final Logger LOG = Logger.getLogger(BusSlots.class);
    /**
     * The longest a truncation waits for the slot's lock. Every statement that reads the whole tables (the
     * sequencer's, page reads) waits behind it meanwhile; a truncation that cannot have the lock by then tries again
     * at the next run.
     */
    static final Duration LOCK_TIMEOUT = Duration.ofMillis(200);
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    /**
     * What one {@link #maintain} did.
     *
     * @param truncated slots emptied
     * @param rotated whether the senders moved on to the next slot
     * @param blocked whether they should have and could not: the next slot still holds messages retention keeps (a
     *        durable consumer group holds them back, say), and until it is emptied retention must delete rows
     */
    public record Pass(int truncated, boolean rotated, boolean blocked) {
    }

    private final AgroalDataSource dataSource;
    private final BusTable table;

    public BusSlots(AgroalDataSource dataSource, BusTable table) {
        this.dataSource = dataSource;
        this.table = table;
    }

    /**
     * Empties the slots left behind whose every message retention would delete, oldest first; then, if
     * {@code rotate}, moves the senders on to the next slot once the slot they write was first numbered longer than
     * {@code period} ago and the next one is empty.
     */
    public Pass maintain(RetentionLimits limits, Duration period, boolean rotate) {
        try (Connection connection = dataSource.getConnection(); Statement plain = connection.createStatement()) {
            connection.setAutoCommit(false);
            try {
                int truncated = 0;
                while (truncated < BusTable.SLOTS - 1 && truncateOldest(connection, plain, limits)) {
                    truncated++;
                }
                return rotate ? rotate(connection, period, truncated) : new Pass(truncated, false, false);
            } finally {
                connection.rollback();
            }
        } catch (SQLException e) {
            throw new BusException("Emptying or rotating the slots of bus table " + table.describe() + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** In a transaction of its own: empties the oldest slot left behind if retention keeps nothing of it. */
    private boolean truncateOldest(Connection connection, Statement plain, RetentionLimits limits)
            throws SQLException {
        if (!lock(connection)) {
            connection.rollback();
            return false;
        }
        int active = activeSlot(connection);
        int oldest = -1;
        for (int i = 1; i < BusTable.SLOTS && oldest < 0; i++) {
            int k = (active + i) % BusTable.SLOTS;
            if (!isTrue(connection, table.slotEmpty(k))) {
                oldest = k;
            }
        }
        if (oldest < 0) {
            connection.rollback();
            return false;
        }
        plain.execute("SET LOCAL lock_timeout = " + LOCK_TIMEOUT.toMillis());
        plain.execute("SET LOCAL jit = off");
        try {
            plain.execute(table.lockSlot(oldest));
        } catch (SQLException e) {
            connection.rollback();
            if (LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                LOG.debugf("Slot %d of bus table %s is in use; retention empties it at a later run", oldest,
                        table.describe());
                return false;
            }
            throw e;
        }
        Array channels;
        Array maxima;
        try (PreparedStatement expiry = connection.prepareStatement(table.slotExpiry(oldest))) {
            limits.bind(connection, expiry);
            expiry.setInt(6, 0);
            try (ResultSet row = expiry.executeQuery()) {
                row.next();
                if (row.getLong(1) > 0 || row.getBoolean(2)) {
                    // Retention keeps some of it, or the sequencer has not numbered all of it yet.
                    connection.rollback();
                    return false;
                }
                channels = row.getArray(3);
                maxima = row.getArray(4);
            }
        }
        long others = 0;
        if (channels != null) {
            try (PreparedStatement below = connection.prepareStatement(table.deleteBelowSlot())) {
                below.setArray(1, channels);
                below.setArray(2, maxima);
                below.setInt(3, oldest);
                try (ResultSet count = below.executeQuery()) {
                    count.next();
                    others = count.getLong(1);
                }
            }
        }
        plain.execute(table.truncateSlot(oldest));
        connection.commit();
        LOG.debugf("Retention emptied slot %d of bus table %s (and %d message(s) of later slots numbered before its"
                + " last)", Integer.valueOf(oldest), table.describe(), Long.valueOf(others));
        return true;
    }

    /** In a transaction of its own: moves the senders to the next slot when it is time and the slot is empty. */
    private Pass rotate(Connection connection, Duration period, int truncated) throws SQLException {
        if (!lock(connection)) {
            connection.rollback();
            return new Pass(truncated, false, false);
        }
        long block = block(connection);
        int active = (int) (block % BusTable.SLOTS);
        boolean due;
        try (PreparedStatement old = connection.prepareStatement(table.slotNumberedBefore(active))) {
            old.setDouble(1, RetentionLimits.seconds(period));
            try (ResultSet row = old.executeQuery()) {
                row.next();
                due = row.getBoolean(1);
            }
        }
        if (!due) {
            connection.rollback();
            return new Pass(truncated, false, false);
        }
        int next = (active + 1) % BusTable.SLOTS;
        if (!isTrue(connection, table.slotEmpty(next))) {
            connection.rollback();
            return new Pass(truncated, false, true);
        }
        try (PreparedStatement move = connection.prepareStatement(table.rotate())) {
            move.setLong(1, block + 1);
            move.execute();
        }
        connection.commit();
        LOG.debugf("Bus table %s: senders now write slot %d", table.describe(), next);
        return new Pass(truncated, true, false);
    }

    private boolean lock(Connection connection) throws SQLException {
        try (PreparedStatement lock = connection.prepareStatement(BusTable.slotsLockSql())) {
            lock.setString(1, table.lockKey());
            try (ResultSet row = lock.executeQuery()) {
                row.next();
                return row.getBoolean(1);
            }
        }
    }

    private int activeSlot(Connection connection) throws SQLException {
        return (int) (block(connection) % BusTable.SLOTS);
    }

    /** The id sequence's current block of 2^40 ids. */
    private long block(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery(table.lastId())) {
            row.next();
            return row.getLong(1) >>> 40;
        }
    }

    private static boolean isTrue(Connection connection, String query) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet row = statement.executeQuery(query)) {
            row.next();
            return row.getBoolean(1);
        }
    }
}
