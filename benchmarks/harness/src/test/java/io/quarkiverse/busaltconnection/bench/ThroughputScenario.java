package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throughput by sender count on one disk: the extension and Spring Integration end to end (first send to last
 * receipt), and pgbench's three database-side baselines through the same PgBouncer, sender count after sender count
 * so that all systems see the same conditions.
 */
final class ThroughputScenario {

    static final String INSERT = "INSERT only (pgbench)";
    static final String INSERT_NOTIFY = "INSERT + pg_notify (pgbench)";
    static final String NOTIFY = "pg_notify alone (pgbench)";
    static final List<String> COLUMNS = List.of(ExtensionContender.LABEL, INSERT, INSERT_NOTIFY, NOTIFY,
            SpringPeer.LABEL);

    /**
     * One figure: messages per second end to end (messaging systems) or transactions per second (pgbench);
     * the senders' commit rate; pgbench's mean latency; what went wrong, if anything.
     */
    record Cell(double rate, double commitRate, double latencyMillis, String caveat) {

        static Cell of(Delivery delivery) {
            return new Cell(delivery.throughput(), delivery.commitRate(), Double.NaN, delivery.caveat());
        }

        static Cell of(Pgbench.Result result) {
            return new Cell(result.tps(), result.tps(), result.latencyMillis(), "");
        }

        static final Cell FAILED = new Cell(Double.NaN, Double.NaN, Double.NaN, "failed (see the run's log)");
    }

    /** One disk's figures: column → sender count → cell. */
    record Table(int[] senders, Duration run, Map<String, Map<Integer, Cell>> cells) {

        Cell cell(String column, int senders) {
            return cells.getOrDefault(column, Map.of()).getOrDefault(senders, Cell.FAILED);
        }

        double rate(String column, int senders) {
            return cell(column, senders).rate();
        }

        boolean has(int senders) {
            return java.util.Arrays.stream(this.senders).anyMatch(s -> s == senders);
        }
    }

    private final Plan plan;

    ThroughputScenario(Plan plan) {
        this.plan = plan;
    }

    /** @param extension null when the applications did not start: its column stays empty */
    Table run(Disk disk, Contender extension, Pgbench pgbench, Contender spring) {
        Map<String, Map<Integer, Cell>> cells = new LinkedHashMap<>();
        COLUMNS.forEach(column -> cells.put(column, new LinkedHashMap<>()));
        Duration run = plan.throughputRun();
        for (int senders : plan.senders()) {
            String where = disk.label + ", " + Fmt.senders(senders);
            if (extension != null) {
                put(cells, ExtensionContender.LABEL, senders, Progress.attempt("throughput " + where + ": extension",
                        () -> Cell.of(extension.closed(Runs.next(), senders, run))));
            }
            put(cells, INSERT, senders, Progress.attempt("throughput " + where + ": pgbench INSERT",
                    () -> Cell.of(pgbench.run(Pgbench.Script.INSERT, senders, run))));
            put(cells, INSERT_NOTIFY, senders, Progress.attempt("throughput " + where + ": pgbench INSERT + NOTIFY",
                    () -> Cell.of(pgbench.run(Pgbench.Script.INSERT_NOTIFY, senders, run))));
            put(cells, NOTIFY, senders, Progress.attempt("throughput " + where + ": pgbench NOTIFY",
                    () -> Cell.of(pgbench.run(Pgbench.Script.NOTIFY, senders, run))));
            put(cells, SpringPeer.LABEL, senders, Progress.attempt("throughput " + where + ": Spring Integration",
                    () -> Cell.of(spring.closed(Runs.next(), senders, run))));
        }
        return new Table(plan.senders(), run, cells);
    }

    private static void put(Map<String, Map<Integer, Cell>> cells, String column, int senders, Cell cell) {
        cells.get(column).put(senders, cell == null ? Cell.FAILED : cell);
    }

    static void render(Report report, Map<Disk, Table> tables, ThroughputChart chart) {
        for (Map.Entry<Disk, Table> entry : tables.entrySet()) {
            Disk disk = entry.getKey();
            Table table = entry.getValue();
            Report.Section section = report.section("Throughput — " + disk.label);
            section.paragraph(String.format("Each cell: %d s of N concurrent senders sending back to back, one"
                    + " message per transaction (autocommit), about 100 bytes each, every send through PgBouncer"
                    + " (transaction mode, %d server connections). %s and %s: messages per second from the first send"
                    + " to the last receipt by the listener in another process (%s) or the channel's subscriber"
                    + " (Spring); pgbench: transactions per second. In parentheses, the ratio to INSERT-only pgbench"
                    + " at the same number of clients. \"Commits at sender\": the extension's sends completed per"
                    + " second in the sending application.", table.run().toSeconds(), PgBouncer.DEFAULT_POOL_SIZE,
                    ExtensionContender.LABEL, SpringPeer.LABEL, "the receiving application")
                    + " pgbench (`-n -c N -j 2 -T`) runs one statement per transaction: " + scripts() + ".");
            List<List<String>> rows = new ArrayList<>();
            List<String> caveats = new ArrayList<>();
            for (int senders : table.senders()) {
                double insert = table.rate(INSERT, senders);
                List<String> row = new ArrayList<>(List.of(String.valueOf(senders)));
                for (String column : COLUMNS) {
                    Cell cell = table.cell(column, senders);
                    row.add(Fmt.rate(cell.rate()) + (column.equals(INSERT) ? ""
                            : " (" + Fmt.ratio(cell.rate() / insert)
                                    + ")"));
                    if (column.equals(ExtensionContender.LABEL)) {
                        row.add(Fmt.rate(cell.commitRate()));
                    }
                    if (!cell.caveat().isEmpty()) {
                        caveats.add(column + " at " + Fmt.senders(senders) + ": " + cell.caveat());
                    }
                }
                rows.add(row);
            }
            List<String> header = new ArrayList<>(List.of("senders"));
            for (String column : COLUMNS) {
                header.add(column);
                if (column.equals(ExtensionContender.LABEL)) {
                    header.add("commits at sender (/s)");
                }
            }
            section.table(header, rows);
            if (!caveats.isEmpty()) {
                section.paragraph("Not complete: " + String.join("; ", caveats) + ".");
            }
            section.paragraph(summary(table));
            // pg_notify alone is not durable and several times faster: on the same scale it would flatten the rest.
            Map<String, double[]> bars = new LinkedHashMap<>();
            for (String column : COLUMNS) {
                if (!column.equals(NOTIFY)) {
                    bars.put(column, java.util.Arrays.stream(table.senders()).mapToDouble(n -> table.rate(column, n))
                            .toArray());
                }
            }
            chart.panel(disk.label, table.senders(), bars);
        }
    }

    /** The pgbench scripts as they ran, the 100-byte payload literal shortened. */
    private static String scripts() {
        List<String> scripts = new ArrayList<>();
        for (Pgbench.Script script : Pgbench.Script.values()) {
            scripts.add(script.label + " `" + script.sql.replace(Pgbench.payload(), "xxx…") + "`");
        }
        return String.join("; ", scripts);
    }

    /** What the table says, in words, from its figures. */
    private static String summary(Table table) {
        int[] senders = table.senders();
        int first = senders[0];
        int last = senders[senders.length - 1];
        StringBuilder words = new StringBuilder();
        double extFirst = table.rate(ExtensionContender.LABEL, first);
        double extLast = table.rate(ExtensionContender.LABEL, last);
        int bestAt = -1;
        for (int n : senders) {
            double rate = table.rate(ExtensionContender.LABEL, n);
            if (!Double.isNaN(rate) && (bestAt < 0 || rate > table.rate(ExtensionContender.LABEL, bestAt))) {
                bestAt = n;
            }
        }
        if (bestAt < 0) {
            words.append("The extension has no figures on this disk (its steps failed). ");
        } else {
            words.append(String.format("From %s to %s the extension went from %s to %s messages per second (%s),"
                    + " with its best, %s, at %s. ", Fmt.senders(first), Fmt.senders(last), Fmt.rate(extFirst),
                    Fmt.rate(extLast), Fmt.ratio(extLast / extFirst), Fmt.rate(table.rate(ExtensionContender.LABEL,
                            bestAt)),
                    Fmt.senders(bestAt)));
        }
        words.append(String.format("INSERT-only pgbench went from %s to %s transactions per second, and INSERT +"
                + " pg_notify in one transaction from %s to %s (%s of INSERT-only at %s).",
                Fmt.rate(table.rate(INSERT, first)), Fmt.rate(table.rate(INSERT, last)),
                Fmt.rate(table.rate(INSERT_NOTIFY, first)), Fmt.rate(table.rate(INSERT_NOTIFY, last)),
                Fmt.ratio(table.rate(INSERT_NOTIFY, last) / table.rate(INSERT, last)), Fmt.senders(last)
                        .replace("sender", "client")));
        return words.toString();
    }
}
