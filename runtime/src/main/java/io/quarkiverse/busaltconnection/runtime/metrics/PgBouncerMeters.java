package io.quarkiverse.busaltconnection.runtime.metrics;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkiverse.busaltconnection.runtime.pgbouncer.PgBouncerConsole;
import io.quarkiverse.busaltconnection.runtime.pgbouncer.PoolStatistics;
import io.quarkus.runtime.StartupEvent;

/**
 * PgBouncer's pools and statistics as meters named as prometheus-community's pgbouncer_exporter names them
 * ({@code pgbouncer.pools.client.waiting.connections} is {@code pgbouncer_pools_client_waiting_connections} in
 * Prometheus), so that its dashboards work unchanged. A pool's meters appear with the first reading that shows it. A
 * bean only when the application has Micrometer.
 */
@Singleton
public class PgBouncerMeters {

    /** SHOW POOLS column to gauge, by database and user. */
    static final Map<String, String> POOL_GAUGES = Map.ofEntries(
            Map.entry("cl_active", "pgbouncer.pools.client.active.connections"),
            Map.entry("cl_waiting", "pgbouncer.pools.client.waiting.connections"),
            Map.entry("cl_active_cancel_req", "pgbouncer.pools.client.active.cancel.connections"),
            Map.entry("cl_waiting_cancel_req", "pgbouncer.pools.client.waiting.cancel.connections"),
            Map.entry("sv_active", "pgbouncer.pools.server.active.connections"),
            Map.entry("sv_active_cancel", "pgbouncer.pools.server.active.cancel.connections"),
            Map.entry("sv_being_canceled", "pgbouncer.pools.server.being.canceled.connections"),
            Map.entry("sv_idle", "pgbouncer.pools.server.idle.connections"),
            Map.entry("sv_used", "pgbouncer.pools.server.used.connections"),
            Map.entry("sv_tested", "pgbouncer.pools.server.testing.connections"),
            Map.entry("sv_login", "pgbouncer.pools.server.login.connections"));

    static final String MAX_WAIT = "pgbouncer.pools.client.maxwait.seconds";

    /** SHOW STATS column to counter (Prometheus adds _total), by database, with the factor to its unit. */
    record Total(String name, double factor) {
    }

    static final Map<String, Total> STATS_COUNTERS = Map.of(
            "total_query_count", new Total("pgbouncer.stats.queries.pooled", 1),
            "total_query_time", new Total("pgbouncer.stats.queries.duration.seconds", 1e-6),
            "total_received", new Total("pgbouncer.stats.received.bytes", 1),
            "total_sent", new Total("pgbouncer.stats.sent.bytes", 1),
            "total_wait_time", new Total("pgbouncer.stats.client.wait.seconds", 1e-6),
            "total_xact_count", new Total("pgbouncer.stats.sql.transactions.pooled", 1),
            "total_xact_time", new Total("pgbouncer.stats.server.in.transaction.seconds", 1e-6));

    private final Set<Object> registered = ConcurrentHashMap.newKeySet();

    void register(@Observes StartupEvent started, PgBouncerConsole console, MeterRegistry registry) {
        if (console.enabled()) {
            console.onReading(statistics -> meters(statistics, console, registry));
            console.last().ifPresent(statistics -> meters(statistics, console, registry));
        }
    }

    private void meters(PoolStatistics statistics, PgBouncerConsole console, MeterRegistry registry) {
        statistics.pools().forEach((pool, columns) -> {
            if (!registered.add(pool)) {
                return;
            }
            Tags tags = Tags.of("database", pool.database(), "user", pool.user());
            POOL_GAUGES.forEach((column, name) -> {
                if (columns.containsKey(column)) {
                    Gauge.builder(name, console, c -> poolValue(c, pool, column)).tags(tags).register(registry);
                }
            });
            Gauge.builder(MAX_WAIT, console, c -> c.last().flatMap(last -> last.pool(pool))
                    .map(PoolStatistics::maxWaitSeconds).orElse(Double.NaN)).tags(tags).register(registry);
        });
        statistics.stats().forEach((database, columns) -> {
            if (!registered.add(database)) {
                return;
            }
            STATS_COUNTERS.forEach((column, total) -> {
                if (columns.containsKey(column)) {
                    FunctionCounter.builder(total.name(), console, c -> statsValue(c, database, column) * total.factor())
                            .tags("database", database).register(registry);
                }
            });
        });
    }

    private static double poolValue(PgBouncerConsole console, PoolStatistics.Pool pool, String column) {
        return console.last().flatMap(last -> last.pool(pool)).map(columns -> columns.get(column))
                .orElse(Double.NaN);
    }

    private static double statsValue(PgBouncerConsole console, String database, String column) {
        return console.last().map(last -> last.stats().get(database)).map(columns -> columns.get(column))
                .orElse(Double.NaN);
    }
}
