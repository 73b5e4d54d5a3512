package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

/**
 * One sender, the application against the bare statement: {@code Bus.send} in autocommit versus raw pgjdbc running
 * the same statement the extension runs for one message outside a transaction ({@link JdbcSends#BUS_INSERT}), into a table of
 * the bus table's shape, through the
 * same PgBouncer, borrowing a pooled connection per send. What the extension adds per send on the sender's path.
 */
final class SingleSenderScenario {

    /** Sends completed per second by each; null when that side failed. */
    record Result(Duration run, Load.Result extension, Load.Result raw) {

        double ratio() {
            return extension == null || raw == null ? Double.NaN : extension.rate() / raw.rate();
        }
    }

    private final Plan plan;

    SingleSenderScenario(Plan plan) {
        this.plan = plan;
    }

    Result run(Disk disk, ExtensionContender extension, DataSource pooled) {
        Duration run = plan.throughputRun();
        Load.Result ext = Progress.attempt("single sender, " + disk.label + ": extension",
                () -> extension.closed(Runs.next(), 1, run).sent());
        Load.Result raw = Progress.attempt("single sender, " + disk.label + ": raw pgjdbc",
                () -> Load.closed(Runs.next(), 1, run, 0, 100, JdbcSends.busInsert(pooled)));
        return new Result(run, ext, raw);
    }

    static void render(Report report, Map<Disk, Result> results) {
        if (results.isEmpty()) {
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        StringBuilder words = new StringBuilder();
        Duration run = null;
        for (Map.Entry<Disk, Result> entry : results.entrySet()) {
            Result result = entry.getValue();
            run = result.run();
            double ext = result.extension() == null ? Double.NaN : result.extension().rate();
            double raw = result.raw() == null ? Double.NaN : result.raw().rate();
            rows.add(List.of(entry.getKey().label, Fmt.rate(ext), Fmt.rate(raw), Fmt.ratio(result.ratio())));
            words.append(String.format(" On %s one `Bus.send` took %s ms on average against %s ms for the bare"
                    + " statement.", entry.getKey().label, Fmt.ms(1000 / ext), Fmt.ms(1000 / raw)));
        }
        report.section("One sender: the application against the bare statement")
                .paragraph(String.format("Sends completed per second by one thread for %d s: `Bus.send` (autocommit)"
                        + " in the sending application, against pgjdbc in the harness running `%s` in autocommit"
                        + " on a connection borrowed per send from an Agroal pool, through the same PgBouncer.",
                        run.toSeconds(), JdbcSends.BUS_INSERT) + words)
                .table(List.of("disk", "Bus.send (/s)", "raw pgjdbc (/s)", "ratio"), rows);
    }
}
