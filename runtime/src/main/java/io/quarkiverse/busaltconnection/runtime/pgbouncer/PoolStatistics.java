package io.quarkiverse.busaltconnection.runtime.pgbouncer;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One reading of PgBouncer's admin console: {@code SHOW POOLS} by database and user, {@code SHOW STATS} by database,
 * each column's value as a number (columns that are not numbers are left out).
 */
public record PoolStatistics(Instant read, Map<Pool, Map<String, Double>> pools, Map<String, Map<String, Double>> stats) {

    /** A pool of PgBouncer: a database and a user. */
    public record Pool(String database, String user) {
    }

    /** Clients waiting for a server connection, over every pool. */
    public double clientsWaiting() {
        return pools.values().stream().mapToDouble(columns -> columns.getOrDefault("cl_waiting", 0.0)).sum();
    }

    /** The longest time a client has been waiting, in seconds, over every pool. */
    public double longestWaitSeconds() {
        return pools.values().stream().mapToDouble(PoolStatistics::maxWaitSeconds).max().orElse(0);
    }

    /** {@code maxwait} with its microseconds ({@code maxwait_us}, PgBouncer 1.8 and later). */
    public static double maxWaitSeconds(Map<String, Double> pool) {
        return pool.getOrDefault("maxwait", 0.0) + pool.getOrDefault("maxwait_us", 0.0) / 1_000_000;
    }

    public Optional<Map<String, Double>> pool(Pool pool) {
        return Optional.ofNullable(pools.get(pool));
    }
}
