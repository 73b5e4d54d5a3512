package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.agroal.api.AgroalDataSource;

/**
 * Connection economy: PostgreSQL backends while N senders send flat out, through the extension (the application's
 * pool, then PgBouncer's) against a pool of the same size as the application's, straight to PostgreSQL.
 */
final class ConnectionScenario {

    /** Peak client backends of the benchmark database; -1 when that side failed. */
    record Row(int senders, int throughExtension, int direct) {
    }

    record Result(int atRest, Duration load, List<Row> rows) {
    }

    private final Plan plan;

    ConnectionScenario(Plan plan) {
        this.plan = plan;
    }

    Result run(Stack stack, ExtensionContender extension) throws Exception {
        Servers servers = stack.servers;
        Duration load = plan.connectionLoad();
        int atRest = peak(servers, () -> Thread.sleep(500));
        List<Row> rows = new ArrayList<>();
        for (int senders : plan.senders()) {
            Integer ext = Progress.attempt("connections, " + Fmt.senders(senders) + ": extension",
                    () -> peak(servers, () -> extension.closed(Runs.next(), senders, load)));
            Integer pool = Progress.attempt("connections, " + Fmt.senders(senders) + ": direct pool",
                    () -> peak(servers, () -> direct(servers, senders, load)));
            rows.add(new Row(senders, ext == null ? -1 : ext, pool == null ? -1 : pool));
        }
        return new Result(atRest, load, rows);
    }

    /**
     * A pool of its own for each measurement: its idle connections are backends too, and must not stay open into
     * the next one.
     */
    private static void direct(Servers servers, int senders, Duration load) throws Exception {
        try (AgroalDataSource direct = JdbcPool.of(servers.directUrl(), servers, Apps.SENDER_POOL)) {
            Load.closed(Runs.next(), senders, load, 0, 100, JdbcSends.busInsert(direct));
        }
        // Closed connections end their backends a moment later.
        Thread.sleep(500);
    }

    private interface Work {
        void run() throws Exception;
    }

    private static int peak(Servers servers, Work work) throws Exception {
        try (BackendSampler sampler = new BackendSampler(servers)) {
            Thread.sleep(100);
            work.run();
            Thread.sleep(100);
            return sampler.peak();
        }
    }

    static void render(Report report, Result result) {
        if (result == null) {
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (Row row : result.rows()) {
            rows.add(List.of(String.valueOf(row.senders()), count(row.throughExtension()), count(row.direct())));
        }
        Row largest = result.rows().get(result.rows().size() - 1);
        report.section("Connection economy")
                .paragraph(String.format("Peak PostgreSQL client backends of the benchmark database (pg_stat_activity,"
                        + " sampled every 20 ms) while N threads send back to back for %d s. Through the extension:"
                        + " the sending application's Agroal pool (max %d) through PgBouncer (default_pool_size %d)."
                        + " Direct: an Agroal pool of the same size (max %d) straight to PostgreSQL, running the same"
                        + " INSERT. At rest, %d backends (both applications' direct connections, PgBouncer's idle"
                        + " server connections, the baselines' listeners). PgBouncer never opens more than"
                        + " default_pool_size server connections, whatever the number of clients. At %d senders: %s"
                        + " backends through the extension, %s direct.", result.load().toSeconds(), Apps.SENDER_POOL,
                        PgBouncer.DEFAULT_POOL_SIZE, Apps.SENDER_POOL, result.atRest(), largest.senders(),
                        count(largest.throughExtension()), count(largest.direct())))
                .table(List.of("senders", "through the extension (PgBouncer)", "direct pool"), rows);
    }

    private static String count(int value) {
        return value < 0 ? "failed" : String.valueOf(value);
    }
}
