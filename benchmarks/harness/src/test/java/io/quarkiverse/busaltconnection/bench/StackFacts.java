package io.quarkiverse.busaltconnection.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one disk's servers were, as they report it (versions and settings), and how long one flush took there: the
 * report states the conditions of every figure, and the latency goal needs the flush time.
 */
record StackFacts(Map<String, String> postgres, Map<String, String> pgbouncer, boolean shimLoaded,
        double flushMillis, long flushDelayMicros) {

    static StackFacts measure(Stack stack, FlushTools tools, Plan plan) throws Exception {
        long delay = stack.disk == Disk.SLOW_FLUSH ? plan.flushDelayMicros() : 0;
        double flush = tools.flushMillis(stack.scratch(), plan.quick() ? 1_000 : 2_000, delay);
        return new StackFacts(stack.postgresSettings(), stack.pgbouncerSettings(), stack.shimLoaded(), flush, delay);
    }

    static void render(Report report, Map<Disk, StackFacts> facts, Map<Disk, ThroughputScenario.Table> throughput) {
        if (facts.isEmpty()) {
            return;
        }
        List<Disk> disks = new ArrayList<>(facts.keySet());
        List<String> header = new ArrayList<>(List.of("setting"));
        disks.forEach(disk -> header.add(disk.label));
        List<List<String>> rows = new ArrayList<>();
        for (String name : Postgres.REPORTED) {
            rows.add(row("PostgreSQL " + name, disks, disk -> facts.get(disk).postgres().getOrDefault(name, "—")));
        }
        rows.add(row("PgBouncer version", disks, disk -> facts.get(disk).pgbouncer().getOrDefault("version", "—")));
        for (String name : PgBouncer.REPORTED) {
            rows.add(row("PgBouncer " + name, disks, disk -> facts.get(disk).pgbouncer().getOrDefault(name, "—")));
        }
        rows.add(row("flush shim (LD_PRELOAD) mapped into postgres", disks, disk -> facts.get(disk)
                .flushDelayMicros() == 0 ? "not used" : facts.get(disk).shimLoaded() ? "yes" : "**no**"));
        rows.add(row("one 8 kB write + fdatasync (ms)", disks, disk -> Fmt.ms(facts.get(disk).flushMillis())));
        rows.add(row("pgbench INSERT-only, 1 client: tps / mean latency (ms)", disks, disk -> insertAtOne(throughput,
                disk)));

        StringBuilder words = new StringBuilder("PostgreSQL and PgBouncer started by the harness for each disk, on"
                + " loopback, PgBouncer in front in transaction mode. One flush was timed by a small C program"
                + " (compiled with gcc at run time): 8 kB writes into a preallocated 16 MB file next to the data"
                + " directory, each followed by fdatasync, as PostgreSQL writes its WAL at commit; the mean is the"
                + " \"one flush\" of the latency goal.");
        for (Disk disk : disks) {
            StackFacts f = facts.get(disk);
            words.append(String.format(" On %s one flush took %s ms", disk.label, Fmt.ms(f.flushMillis())));
            if (f.flushDelayMicros() > 0) {
                words.append(String.format(" (the shim adds %d µs to every fdatasync and fsync of the PostgreSQL"
                        + " server process and its children%s)", f.flushDelayMicros(),
                        f.shimLoaded() ? "; /proc shows it mapped into the server"
                                : "; **it was not mapped into the"
                                        + " server**"));
            }
            words.append('.');
        }
        ThroughputScenario.Table machine = throughput.get(Disk.MACHINE);
        ThroughputScenario.Table slow = throughput.get(Disk.SLOW_FLUSH);
        if (machine != null && slow != null && machine.has(1) && slow.has(1)) {
            ThroughputScenario.Cell fast = machine.cell(ThroughputScenario.INSERT, 1);
            ThroughputScenario.Cell delayed = slow.cell(ThroughputScenario.INSERT, 1);
            words.append(String.format(" pgbench INSERT-only at one client: %s tps on %s and %s tps with the 1 ms flush"
                    + " (%s ms more per transaction).", Fmt.rate(fast.rate()), Disk.MACHINE.label,
                    Fmt.rate(delayed.rate()), Fmt.ms(delayed.latencyMillis() - fast.latencyMillis())));
        }
        report.section("Setup").paragraph(words.toString()).table(header, rows);
    }

    private static String insertAtOne(Map<Disk, ThroughputScenario.Table> throughput, Disk disk) {
        ThroughputScenario.Table table = throughput.get(disk);
        if (table == null || !table.has(1)) {
            return "—";
        }
        ThroughputScenario.Cell cell = table.cell(ThroughputScenario.INSERT, 1);
        return Fmt.rate(cell.rate()) + " / " + Fmt.ms(cell.latencyMillis());
    }

    private static List<String> row(String name, List<Disk> disks, java.util.function.Function<Disk, String> value) {
        List<String> row = new ArrayList<>(List.of(name));
        disks.forEach(disk -> row.add(value.apply(disk)));
        return row;
    }
}
