package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Commit-to-listener latency at fixed offered rates, for every messaging system: messages are due at fixed times
 * and carry their due time, and latency is receipt minus due time, so a sender that falls behind shows as latency
 * (no coordinated omission).
 */
final class LatencyScenario {

    /** One system at one offered rate. */
    record Row(int rate, String system, Duration run, Delivery delivery) {

        /** p50 in ms, or null when not measured. */
        Double p50() {
            return delivery == null ? null : delivery.received().p50();
        }
    }

    private final Plan plan;

    LatencyScenario(Plan plan) {
        this.plan = plan;
    }

    List<Row> run(Disk disk, List<Contender> contenders) {
        List<Row> rows = new ArrayList<>();
        for (int rate : plan.latencyRates()) {
            Duration run = plan.latencyRun(rate);
            for (Contender contender : contenders) {
                Delivery delivery = Progress.attempt("latency, " + disk.label + ", " + rate + "/s: "
                        + contender.label(), () -> contender.open(Runs.next(), rate, run, plan.latencyThreads()));
                rows.add(new Row(rate, contender.label(), run, delivery));
            }
        }
        return rows;
    }

    static Double p50(List<Row> rows, int rate, String system) {
        return rows.stream().filter(r -> r.rate() == rate && r.system().equals(system)).findFirst().map(Row::p50)
                .orElse(null);
    }

    static void render(Report report, Map<Disk, List<Row>> results, int threads) {
        if (results.isEmpty()) {
            return;
        }
        List<List<String>> table = new ArrayList<>();
        List<String> caveats = new ArrayList<>();
        for (Map.Entry<Disk, List<Row>> entry : results.entrySet()) {
            for (Row row : entry.getValue()) {
                Delivery d = row.delivery();
                if (d == null) {
                    table.add(List.of(entry.getKey().label, Fmt.number(row.rate()), row.system(), "failed", "—",
                            "—", "—", "—"));
                    continue;
                }
                RunStats stats = d.received();
                table.add(List.of(entry.getKey().label, Fmt.number(row.rate()), row.system(),
                        Fmt.rate(d.achievedRate()), Fmt.number(stats.count()), Fmt.ms(stats.p50()),
                        Fmt.ms(stats.p99()), Fmt.ms(stats.p999())));
                if (!d.caveat().isEmpty()) {
                    caveats.add(row.system() + " at " + row.rate() + "/s on " + entry.getKey().label + ": "
                            + d.caveat());
                }
            }
        }
        Report.Section section = report.section("Latency")
                .paragraph(String.format("Milliseconds from each message's scheduled send time to its receipt by the"
                        + " listener, at fixed offered rates (one message per transaction, about 100 bytes, %d sending"
                        + " threads that take the next due message when free). Bus Alt Connection: `Bus.send` in the"
                        + " sending application (alone; \"in a transaction\": each in a transaction of its own,"
                        + " `QuarkusTransaction.requiringNew()`), `@BusListener` in the receiving one. Plain outbox: INSERT + pg_notify"
                        + " of the row id in one transaction (one statement), a bare Vert.x `PgSubscriber` straight to"
                        + " PostgreSQL that reads the row by id on its connection. Raw pg_notify: the message as the"
                        + " notification's payload (not durable), the same bare subscriber. Senders of"
                        + " the baselines and the peer run in the harness, borrowing a pooled connection through"
                        + " PgBouncer per send. A percentile is shown only when the samples support it (p99: 100 or"
                        + " more, p99.9: 1,000 or more).", threads))
                .table(List.of("disk", "offered (/s)", "system", "achieved (/s)", "samples", "p50", "p99", "p99.9"),
                        table);
        if (!caveats.isEmpty()) {
            section.paragraph("Not complete: " + String.join("; ", caveats) + ".");
        }
    }
}
