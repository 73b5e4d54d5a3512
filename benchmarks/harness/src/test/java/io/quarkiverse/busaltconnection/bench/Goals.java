package io.quarkiverse.busaltconnection.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The project's performance goals, each evaluated from this run's figures and written as met / missed with them (or
 * "not measured" when the run did not produce them).
 */
final class Goals {

    private static final String EXT = ExtensionContender.LABEL;
    private static final String INSERT = ThroughputScenario.INSERT;
    private static final long HEAP_LIMIT = 64L * 1024 * 1024;

    private Goals() {
    }

    static void evaluate(Report report, Map<Disk, ThroughputScenario.Table> throughput, Map<Disk, StackFacts> stacks,
            Map<Disk, List<LatencyScenario.Row>> latency, SlowListenerScenario.Result slow) {
        ThroughputScenario.Table slowDisk = throughput.get(Disk.SLOW_FLUSH);
        ThroughputScenario.Table machine = throughput.get(Disk.MACHINE);

        ratioGoal(report, "1 ms flush: 32 senders through the application ≥ 0.6× INSERT-only pgbench at 32 clients",
                slowDisk, 32, INSERT, 32, 0.6, "INSERT-only");
        ratioGoal(report, "1 ms flush: 32 senders ≥ 5× one sender", slowDisk, 32, EXT, 1, 5, "one sender");
        ratioGoal(report, "1 ms flush: 128 senders no lower than 32", slowDisk, 128, EXT, 32, 1, "32 senders");
        ratioGoal(report, "this machine's disk: 32 senders through the application ≥ 0.4× INSERT-only pgbench at 32"
                + " clients", machine, 32, INSERT, 32, 0.4, "INSERT-only");
        aheadOfSpring(report, throughput);
        latencyGoal(report, stacks, latency);
        slowListenerGoal(report, slow);
    }

    /** Met when the extension at {@code senders} ≥ {@code factor} × {@code column} at {@code against}. */
    private static void ratioGoal(Report report, String goal, ThroughputScenario.Table table, int senders,
            String column, int against, double factor, String what) {
        if (table == null || !table.has(senders) || !table.has(against)) {
            report.goal(goal, null, "not in this run");
            return;
        }
        double ext = table.rate(EXT, senders);
        double base = table.rate(column, against);
        if (Double.isNaN(ext) || Double.isNaN(base)) {
            report.goal(goal, null, "a figure is missing (a step failed)");
            return;
        }
        report.goal(goal, ext >= factor * base, String.format("%s messages per second at %d senders, %s %s (%s)",
                Fmt.rate(ext), senders, Fmt.ratio(ext / base), what, Fmt.rate(base)));
    }

    private static void aheadOfSpring(Report report, Map<Disk, ThroughputScenario.Table> throughput) {
        String goal = "ahead of Spring Integration at every sender count";
        if (throughput.isEmpty()) {
            report.goal(goal, null, "not in this run");
            return;
        }
        boolean met = true;
        boolean complete = true;
        List<String> figures = new ArrayList<>();
        for (Map.Entry<Disk, ThroughputScenario.Table> entry : throughput.entrySet()) {
            ThroughputScenario.Table table = entry.getValue();
            for (int senders : table.senders()) {
                double ext = table.rate(EXT, senders);
                double spring = table.rate(SpringPeer.LABEL, senders);
                if (Double.isNaN(ext) || Double.isNaN(spring)) {
                    complete = false;
                    continue;
                }
                met &= ext > spring;
                figures.add(String.format("%s %d: %s", entry.getKey().label, senders, Fmt.ratio(ext / spring)));
            }
        }
        report.goal(goal, figures.isEmpty() ? null : met && complete, "extension ÷ Spring Integration, "
                + String.join("; ", figures) + (complete ? "" : " (some figures missing)"));
    }

    private static void latencyGoal(Report report, Map<Disk, StackFacts> stacks,
            Map<Disk, List<LatencyScenario.Row>> latency) {
        for (Map.Entry<Disk, List<LatencyScenario.Row>> entry : latency.entrySet()) {
            Disk disk = entry.getKey();
            String goal = disk.label + ": p50 commit-to-listener at 100 msg/s ≤ plain outbox p50 + one flush + 0.5 ms";
            Double ext = LatencyScenario.p50(entry.getValue(), 100, EXT);
            Double outbox = LatencyScenario.p50(entry.getValue(), 100, JdbcContender.OUTBOX_LABEL);
            StackFacts stack = stacks.get(disk);
            if (ext == null || outbox == null || stack == null) {
                report.goal(goal, null, "a figure is missing (a step failed or too few samples)");
                continue;
            }
            double limit = outbox + stack.flushMillis() + 0.5;
            report.goal(goal, ext <= limit, String.format("%s ms against a limit of %s ms (outbox %s + flush %s + 0.5)",
                    Fmt.ms(ext), Fmt.ms(limit), Fmt.ms(outbox), Fmt.ms(stack.flushMillis())));
        }
    }

    private static void slowListenerGoal(Report report, SlowListenerScenario.Result slow) {
        String goal = "slow listener behind " + Fmt.number(SlowListenerScenario.MESSAGES) + " messages of 10 kB: heap ≤"
                + " 64 MiB above idle, everything received, no OutOfMemoryError";
        if (slow == null) {
            report.goal(goal, null, "not in this run");
            return;
        }
        boolean met = slow.peakAboveIdle() <= HEAP_LIMIT && slow.complete() && !slow.outOfMemory() && slow.alive();
        // A smaller backlog (a smoke run) says little about the goal's: figures shown, no verdict.
        report.goal(goal, slow.messages() < SlowListenerScenario.MESSAGES ? null : met,
                String.format("%s above idle (-Xmx%s), %s of %s received, %s; %s messages of %s bytes"
                        + ", listener %s slower than the senders", Fmt.mib(slow.peakAboveIdle()), slow.heap(),
                        Fmt.number(slow.received()), Fmt.number(slow.messages()),
                        slow.outOfMemory() ? "OutOfMemoryError in its log" : "no OutOfMemoryError",
                        Fmt.number(slow.messages()), Fmt.number(slow.size()), Fmt.ratio(slow.slowdown())));
    }
}
