package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkiverse.busaltconnection.runtime.BusDataSource;
import io.quarkiverse.busaltconnection.runtime.BusLifecycle;
import io.quarkiverse.busaltconnection.runtime.BusNotRunning;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusEngine;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.scheduler.Scheduled;

/**
 * Retention: messages numbered longer ago than {@code quarkus.imdispatcher.bus.retention} go, every
 * {@code cleanup-interval}, on the pooled path, and per channel the highest position gone is recorded, so that a reader
 * still behind it learns what it lost. Whole slots at once ({@link BusSlots}): the slot the senders write moves on every
 * rotation period, and a slot left behind is emptied when retention keeps nothing of it. Rows one by one
 * ({@link #deleteOlderThan(Duration)}), in position order, when the slots cannot move on: the next slot still holds
 * messages a durable consumer group has not passed (they wait for it, up to {@code retention-max}), or the database
 * user may not truncate. Ages are measured by PostgreSQL's clock, not the instance's. Positions are never reused or
 * shifted. Several instances may run it at the same time: slots are handled by one at a time, and each batch of rows
 * skips the rows another instance is deleting.
 */
@ApplicationScoped
public class BusRetention {

    private static final Logger LOG = Logger.getLogger(BusRetention.class);
    static final int BATCH = 10_000;
    /** The shortest rotation period: each rotation uses a block of 2^40 ids, of 2^23. */
    static final Duration MIN_ROTATION_PERIOD = Duration.ofMinutes(1);

    private final AgroalDataSource dataSource;
    private final ImDispatcherConfig config;
    private final BusTable table;
    private final BusLifecycle lifecycle;
    private final BusSlots slots;
    private volatile boolean failing;
    private volatile boolean slotsFailing;
    /** The first run after the start leaves the senders' slot alone (see {@link #deleteExpired()}). */
    private volatile boolean ranBefore;

    /**
     * @param engine not used here, but created first: it creates (or checks) the schema, so that the first run of
     *        this job, which may come as the application starts, never meets a missing table
     */
    @Inject
    public BusRetention(BusDataSource dataSource, ImDispatcherConfig config, BusTable table, BusEngine engine,
            BusLifecycle lifecycle) {
        this.dataSource = dataSource.get();
        this.lifecycle = lifecycle;
        this.config = config;
        this.table = table;
        this.slots = new BusSlots(this.dataSource, table);
    }

    /**
     * The rotation period: a slot left behind must be empty again when the senders come back to it, three periods
     * later. It is emptied once its last message is older than the retention, at the next run, so three periods must
     * hold the retention and a cleanup interval, with another interval to spare; at least a minute.
     */
    public static Duration rotationPeriod(Duration retention, Duration cleanupInterval) {
        Duration period = retention.plus(cleanupInterval.multipliedBy(2)).dividedBy(3);
        return period.compareTo(MIN_ROTATION_PERIOD) < 0 ? MIN_ROTATION_PERIOD : period;
    }

    @Scheduled(identity = "imdispatcher-bus-retention", every = "${quarkus.imdispatcher.bus.cleanup-interval:5m}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            // Not before the application and its engine (which prepares the schema) are up.
            skipExecutionIf = BusNotRunning.class)
    void deleteExpired() {
        Duration retention = config.bus().retention();
        boolean rowByRow = true;
        try {
            // Not at the first run after the start: an instance of a version before the slots, still running in a
            // rolling deployment, deletes by row address through the partitioned table, which is safe only while
            // every message is in one slot.
            BusSlots.Pass pass = slots.maintain(RetentionLimits.of(config, retention),
                    rotationPeriod(retention, DurationConverter.parseDuration(config.bus().cleanupInterval())),
                    ranBefore);
            rowByRow = pass.blocked();
            if (slotsFailing) {
                slotsFailing = false;
                LOG.infof("Bus retention empties and rotates slots again");
            }
        } catch (BusException e) {
            if (!lifecycle.stopping() && !slotsFailing) {
                slotsFailing = true;
                LOG.warnf("%s; retention deletes rows one by one until this works (if a privilege is missing: the"
                        + " application's database user needs TRUNCATE on the slots %s_0 to _3 and %s_positions_0 to"
                        + " _3, and SELECT, UPDATE on %s_id_seq)", e.getMessage(), table.name(), table.name(),
                        table.name());
            }
        }
        ranBefore = true;
        if (rowByRow) {
            deleteRows(retention);
        }
    }

    private void deleteRows(Duration retention) {
        int deleted;
        try {
            deleted = deleteOlderThan(retention);
        } catch (BusException e) {
            if (lifecycle.stopping()) {
                // The application stops and closed the datasource under the DELETE: the next start deletes them.
                LOG.debugf("Retention stopped with the application: %s", e.getMessage());
            } else if (!failing) {
                failing = true;
                LOG.warnf("%s; retention tries again every quarkus.imdispatcher.bus.cleanup-interval", e.getMessage());
            }
            return;
        }
        if (failing) {
            failing = false;
            LOG.infof("Bus retention deletes expired messages again");
        }
        if (deleted > 0) {
            LOG.debugf("Deleted %d bus message(s) older than %s", deleted, retention);
        }
    }

    /** Retention by slots, for the given limits and rotation period: see {@link BusSlots#maintain}. */
    public BusSlots.Pass maintainSlots(Duration age, Duration period) {
        return slots.maintain(RetentionLimits.of(config, age), period, true);
    }

    /**
     * Deletes the messages numbered longer than {@code age} ago.
     *
     * @return how many were deleted
     */
    public int deleteOlderThan(Duration age) {
        return deleteOlderThan(age, BATCH);
    }

    /** {@link #deleteOlderThan(Duration)} in batches of {@code batch} messages (one transaction each). */
    public int deleteOlderThan(Duration age, int batch) {
        int total = 0;
        try (Connection connection = dataSource.getConnection();
                Statement noJit = connection.createStatement();
                PreparedStatement delete = connection.prepareStatement(table.deleteOlderThan())) {
            // Each batch its own transaction, without JIT: on large tables the planner costs the statement past
            // jit_above_cost, and compiling it costs far more than running it. SET LOCAL ends with the transaction,
            // so the pooled connection (PgBouncer in transaction mode) goes back unchanged.
            connection.setAutoCommit(false);
            RetentionLimits.of(config, age).bind(connection, delete);
            delete.setInt(6, batch);
            int deleted;
            do {
                noJit.execute("SET LOCAL jit = off");
                try (ResultSet count = delete.executeQuery()) {
                    count.next();
                    deleted = count.getInt(1);
                }
                connection.commit();
                total += deleted;
            } while (deleted == batch);
        } catch (SQLException e) {
            throw new BusException("Deleting bus messages older than " + age + " failed: " + e.getMessage(), e);
        }
        return total;
    }
}
