package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.runtime.BusDataSource;

/**
 * How long committed messages have waited for a position, seen through the bus's datasource, so that an instance
 * without a direct connection (it only sends) can tell too. The age is measured from when a reading first saw the
 * oldest unnumbered row, not from the row's {@code created_at}, which is its transaction's start: a long transaction
 * that just committed has waited for nothing.
 * <p>
 * Read in the background: asking never waits for the database (a paused PgBouncer would hold a readiness check
 * indefinitely). Each ask starts a new reading unless one is under way, and answers from the last one that finished.
 */
@Singleton
public class UnnumberedMessages {

    private static final Logger LOG = Logger.getLogger(UnnumberedMessages.class);

    private final AgroalDataSource dataSource;
    private final BusTable table;
    private final AtomicBoolean reading = new AtomicBoolean();
    private final ExecutorService reader = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "imdispatcher-unnumbered-reader");
        thread.setDaemon(true);
        return thread;
    });
    /** The last reading that finished; null before the first. */
    private volatile Reading last;

    /**
     * @param oldest the id of the oldest unnumbered row, -1 if none
     * @param since when readings began to see that row
     * @param at when this reading finished
     */
    private record Reading(long oldest, Instant since, Instant at) {
    }

    @Inject
    public UnnumberedMessages(BusDataSource dataSource, BusTable table) {
        this.dataSource = dataSource.get();
        this.table = table;
    }

    /**
     * For how long the oldest committed message without a position had waited, at least, at the last reading that
     * finished; empty if none waited, or before the first reading. Never blocks.
     */
    public Optional<Duration> waiting() {
        if (reading.compareAndSet(false, true)) {
            try {
                reader.execute(this::read);
            } catch (RuntimeException stopped) {
                reading.set(false);
            }
        }
        Reading known = last;
        return known == null || known.oldest() < 0 ? Optional.empty()
                : Optional.of(Duration.between(known.since(), known.at()));
    }

    private void read() {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(table.oldestUnnumbered())) {
            result.next();
            long oldest = result.getObject(1) == null ? -1 : result.getLong(1);
            Instant now = Instant.now();
            Reading previous = last;
            Instant since = previous != null && previous.oldest() == oldest ? previous.since() : now;
            last = new Reading(oldest, since, now);
        } catch (SQLException e) {
            // The datasource's own health check and the probe report an unreachable datasource.
            LOG.debugf("Reading the unnumbered bus messages failed: %s", e.getMessage());
        } finally {
            reading.set(false);
        }
    }

    @PreDestroy
    void close() {
        reader.shutdownNow();
    }
}
