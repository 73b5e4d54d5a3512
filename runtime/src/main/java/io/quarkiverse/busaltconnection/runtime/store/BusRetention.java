package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

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
import io.quarkus.scheduler.Scheduled;

/**
 * Deletes messages numbered longer ago than {@code quarkus.imdispatcher.bus.retention}, in position order, on the
 * pooled path, in batches, and records per channel the highest position it deleted, so that a reader still behind it
 * learns what it lost. Ages are measured by PostgreSQL's clock, not the instance's (see {@link
 * BusTable#deleteOlderThan()}). Messages a
 * durable consumer group has not passed wait for it, up to {@code quarkus.imdispatcher.bus.retention-max}. Positions are
 * never reused or shifted. Several instances may run it at the same time: each batch skips the rows another instance
 * is deleting.
 */
@ApplicationScoped
public class BusRetention {

    private static final Logger LOG = Logger.getLogger(BusRetention.class);
    static final int BATCH = 10_000;

    private final AgroalDataSource dataSource;
    private final ImDispatcherConfig config;
    private final BusTable table;
    private final BusLifecycle lifecycle;
    private volatile boolean failing;

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
    }

    @Scheduled(identity = "imdispatcher-bus-retention", every = "${quarkus.imdispatcher.bus.cleanup-interval:5m}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            // Not before the application and its engine (which prepares the schema) are up.
            skipExecutionIf = BusNotRunning.class)
    void deleteExpired() {
        int deleted;
        try {
            deleted = deleteOlderThan(config.bus().retention());
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
            LOG.debugf("Deleted %d bus message(s) older than %s", deleted, config.bus().retention());
        }
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
            delete.setDouble(1, seconds(age));
            delete.setDouble(2, seconds(config.bus().retentionMax()));
            // Groups configured here with an expiry of their own; any other group has the default one.
            List<Map.Entry<String, ImDispatcherConfig.ConsumerGroup>> configured = List.copyOf(
                    config.groups().entrySet());
            String[] groups = configured.stream().map(Map.Entry::getKey).toArray(String[]::new);
            Long[] expiries = configured.stream().map(group -> group.getValue().expireAfter().toSeconds())
                    .toArray(Long[]::new);
            delete.setArray(3, connection.createArrayOf("text", groups));
            delete.setArray(4, connection.createArrayOf("bigint", expiries));
            delete.setLong(5, config.group("").expireAfter().toSeconds());
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

    private static double seconds(Duration duration) {
        return duration.getSeconds() + duration.getNano() / 1e9;
    }
}
