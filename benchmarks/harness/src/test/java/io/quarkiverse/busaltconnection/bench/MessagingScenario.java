package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Quarkus Messaging on the bus against the bus's own API, on the same stack and in the same run: {@code Emitter} in
 * the sending application to {@code @Incoming} in the receiving one (the {@code bus-alt-connection} connector), against
 * {@code Bus.send} to {@code @BusListener}; and the in-memory ceiling, {@code Emitter} to {@code @Incoming} inside the
 * receiving JVM without a database. Throughput with {@value #SENDERS} senders back to back, latency at
 * {@value #RATE} messages per second.
 */
final class MessagingScenario {

    static final int SENDERS = 32;
    static final int RATE = 100;
    static final String BUS = "Bus.send → @BusListener";
    static final String CONNECTOR = "Emitter → @Incoming (bus-alt-connection)";
    static final String MEMORY = "Emitter → @Incoming (in memory, one JVM)";
    /** The pause before each latency run. */
    static final Duration QUIET = Duration.ofSeconds(2);

    /** One way of sending and receiving: its throughput run and its latency run. */
    record Row(String system, Delivery throughput, Delivery latency) {
    }

    record Result(Disk disk, Duration run, List<Row> rows) {

        Row row(String system) {
            return rows.stream().filter(r -> r.system().equals(system)).findFirst().orElse(null);
        }
    }

    private final Plan plan;

    MessagingScenario(Plan plan) {
        this.plan = plan;
    }

    Result run(Disk disk, AppInstance sender, AppInstance receiver, ExtensionContender bus) {
        Duration run = plan.throughputRun();
        Duration latencyRun = plan.latencyRun(RATE);
        List<Contender> contenders = List.of(bus,
                emitter(CONNECTOR, sender.url() + "/bench/emit", receiver, ""),
                emitter(MEMORY, receiver.url() + "/bench/memory", receiver, "memory-"));
        // Latency first, each after a quiet moment: measured right after a throughput run, the p50 of either path came
        // out anywhere from 2.5 to 31 ms (why a load weighs that long on a 10 s run is not understood yet).
        List<Delivery> latencies = new ArrayList<>();
        for (Contender contender : contenders) {
            latencies.add(Progress.attempt("messaging, " + disk.label + ": " + contender.label() + ", " + RATE + "/s",
                    () -> {
                        Thread.sleep(QUIET.toMillis());
                        return contender.open(Runs.next(), RATE, latencyRun, plan.latencyThreads());
                    }));
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < contenders.size(); i++) {
            Contender contender = contenders.get(i);
            Delivery throughput = Progress.attempt("messaging, " + disk.label + ": " + contender.label() + ", "
                    + SENDERS + " senders", () -> contender.closed(Runs.next(), SENDERS, run));
            rows.add(new Row(contender == bus ? BUS : contender.label(), throughput, latencies.get(i)));
        }
        return new Result(disk, run, rows);
    }

    /**
     * An {@code Emitter} driven by the endpoints under {@code base} ({@code /closed}, {@code /open}), its messages
     * counted where {@code receiver} records them under {@code prefix} + run: the connector (the sender's Emitter, the
     * receiver's {@code @Incoming}), or the in-memory ceiling (both in the receiving application).
     */
    private static Contender emitter(String label, String base, AppInstance receiver, String prefix) {
        return new Contender() {
            @Override
            public String label() {
                return label;
            }

            @Override
            public Delivery closed(String run, int senders, Duration duration) throws Exception {
                return ExtensionContender.receivedBy(receiver, prefix + run, Http.post(base + "/closed?run=" + run
                        + "&senders=" + senders + "&seconds=" + duration.toMillis() / 1000.0, Load.Result.class));
            }

            @Override
            public Delivery open(String run, int rate, Duration duration, int threads) throws Exception {
                return ExtensionContender.receivedBy(receiver, prefix + run, Http.post(base + "/open?run=" + run
                        + "&rate=" + rate + "&seconds=" + duration.toMillis() / 1000.0 + "&threads=" + threads,
                        Load.Result.class));
            }
        };
    }

    static void goals(Report report, Map<Disk, Result> results) {
        if (results.isEmpty()) {
            report.goal("Emitter → @Incoming ≥ 0.8× the throughput of Bus.send → @BusListener, p50 within 1 ms", null,
                    "not in this run");
            return;
        }
        for (Result result : results.values()) {
            Row bus = result.row(BUS);
            Row connector = result.row(CONNECTOR);
            if (bus == null || connector == null || bus.throughput() == null || connector.throughput() == null
                    || bus.latency() == null || connector.latency() == null) {
                report.goal(result.disk().label + ": Emitter → @Incoming against Bus.send → @BusListener", null,
                        "a run failed");
                continue;
            }
            double ratio = connector.throughput().throughput() / bus.throughput().throughput();
            report.goal(result.disk().label + ", " + SENDERS + " senders: Emitter → @Incoming ≥ 0.8× the throughput"
                    + " of Bus.send → @BusListener", ratio >= 0.8,
                    String.format("%s against %s messages per second"
                            + " (%s)", Fmt.rate(connector.throughput().throughput()),
                            Fmt.rate(bus.throughput().throughput()), Fmt.ratio(ratio)));
            Double p50 = connector.latency().received().p50();
            Double busP50 = bus.latency().received().p50();
            report.goal(result.disk().label + ", " + RATE + "/s: Emitter → @Incoming p50 within 1 ms of Bus.send →"
                    + " @BusListener's", p50 == null || busP50 == null ? null : p50 - busP50 <= 1.0,
                    String.format("%s against %s", Fmt.ms(p50), Fmt.ms(busP50)));
        }
    }

    static void render(Report report, Map<Disk, Result> results) {
        if (results.isEmpty()) {
            return;
        }
        List<List<String>> table = new ArrayList<>();
        for (Result result : results.values()) {
            Row bus = result.row(BUS);
            for (Row row : result.rows()) {
                Delivery t = row.throughput();
                Delivery l = row.latency();
                table.add(List.of(result.disk().label, row.system(),
                        t == null ? "failed" : Fmt.rate(t.throughput()),
                        t == null || bus == null || bus.throughput() == null ? "—"
                                : Fmt.ratio(t.throughput() / bus.throughput().throughput()),
                        l == null ? "—" : Fmt.ms(l.received().p50()), l == null ? "—" : Fmt.ms(l.received().p99())));
            }
        }
        Duration run = results.values().iterator().next().run();
        report.section("Quarkus Messaging")
                .paragraph(String.format("The connector against the bus's own API, on the same stack in the same run."
                        + " Throughput: %d senders back to back for %d s, each send waiting for its commit (Bus.send"
                        + " outside a transaction; Emitter.send outside a transaction, waiting for the acknowledgement,"
                        + " which comes after the connector's writer committed it), counted until the receiver got"
                        + " every message. Latency, measured first: %d messages per second, each run after %d s without"
                        + " load, from each message's scheduled send time to its receipt. Both receivers run on the event loop (@NonBlocking). The in-memory row sends"
                        + " and receives inside the receiving JVM, without a database: the ceiling of Quarkus"
                        + " Messaging itself.", SENDERS, run.toSeconds(), RATE, QUIET.toSeconds()))
                .table(List.of("disk", "path", "msg/s", "÷ Bus.send", "p50 ms at " + RATE + "/s",
                        "p99 ms at " + RATE + "/s"), table);
    }
}
