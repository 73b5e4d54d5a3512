package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.agroal.api.AgroalDataSource;

/**
 * The whole benchmark in one run, on servers it starts itself: for each disk (this machine's, then with 1 ms added
 * to every flush) a PostgreSQL with production durability and a PgBouncer in transaction mode, the sending and the
 * receiving applications (two JVMs), pgbench and the baselines; scenarios in turn; then the report
 * (docs/benchmarks/RESULTS.md, the docs page and the chart). Figures are reported, never asserted. Options: see
 * {@link Plan}.
 */
class BenchmarkIT {

    static final String COMMAND = "./mvnw -B -q install -DskipTests && ./mvnw -B -f benchmarks/pom.xml verify";

    private final Plan plan = Plan.fromSystemProperties();
    private final Apps apps = new Apps(plan);
    private final Map<Disk, StackFacts> stacks = new EnumMap<>(Disk.class);
    private final Map<Disk, ThroughputScenario.Table> throughput = new EnumMap<>(Disk.class);
    private final Map<Disk, SingleSenderScenario.Result> single = new EnumMap<>(Disk.class);
    private final Map<Disk, List<LatencyScenario.Row>> latency = new EnumMap<>(Disk.class);
    private ConnectionScenario.Result connections;
    private List<FanOutScenario.Row> fanOut;
    private SlowListenerScenario.Result slow;
    private final List<GroupScenario.Result> groups = new ArrayList<>();
    private final List<StorageScenario.Result> storage = new ArrayList<>();
    private final List<RetentionScenario.Result> retention = new ArrayList<>();
    private FleetScenario.Result fleet;
    private HeldSnapshotScenario.Result heldSnapshot;
    private final Map<Disk, MessagingScenario.Result> messaging = new EnumMap<>(Disk.class);

    @Test
    void run() throws Exception {
        Progress.log("%s", plan.describe());
        boolean first = true;
        try (FlushTools tools = FlushTools.compile()) {
            for (Disk disk : plan.disks()) {
                measure(disk, tools, first);
                first = false;
            }
        }
        Report report = report();
        report.write(plan.docs());
        Progress.log("wrote %s", plan.docs().toAbsolutePath().normalize());
        System.out.println(report.markdown());
    }

    /**
     * One disk: servers, applications, baselines, then the scenarios. The scenarios whose figures do not depend on
     * the disk (connections, fan-out, slow listener) run on the first disk only. If an application does not start,
     * everything that does not need it still runs.
     */
    private void measure(Disk disk, FlushTools tools, boolean first) throws Exception {
        Progress.log("starting PostgreSQL and PgBouncer, %s", disk.label);
        try (Stack stack = Stack.start(disk, tools, plan.flushDelayMicros());
                AppInstance sender = Progress.attempt("start the sending application", () -> apps.sender(stack))) {
            stacks.put(disk, StackFacts.measure(stack, tools, plan));
            Progress.log("%s", stacks.get(disk));
            Servers servers = stack.servers;
            try (AppInstance receiver = Progress.attempt("start the receiving application",
                    () -> apps.receiver(stack));
                    AgroalDataSource pooled = JdbcPool.of(servers.pooledUrl(), servers, Apps.SENDER_POOL);
                    SpringPeer spring = new SpringPeer(servers, Apps.SENDER_POOL)) {
                JdbcContender outbox = JdbcContender.outbox(servers, pooled);
                JdbcContender raw = JdbcContender.rawNotify(servers, pooled);
                ExtensionContender extension = sender == null || receiver == null ? null
                        : new ExtensionContender(sender, receiver);
                List<Contender> contenders = new ArrayList<>(List.of(outbox, raw, spring));
                if (extension != null) {
                    contenders.add(0, extension);
                }
                Pgbench pgbench = new Pgbench(servers, plan.target());
                warmUp(disk, contenders, pgbench);
                if (plan.runs("throughput")) {
                    throughput.put(disk, new ThroughputScenario(plan).run(disk, extension, pgbench, spring));
                }
                if (plan.runs("latency")) {
                    List<Contender> timed = new ArrayList<>(contenders);
                    if (extension != null) {
                        timed.add(1, extension.inTransactions());
                    }
                    latency.put(disk, new LatencyScenario(plan).run(disk, timed));
                }
                if (extension != null && plan.runs("messaging")) {
                    MessagingScenario.Result result = Progress.attempt("messaging, " + disk.label,
                            () -> new MessagingScenario(plan).run(disk, sender, receiver, extension));
                    if (result != null) {
                        messaging.put(disk, result);
                    }
                }
                if (extension != null && plan.runs("single")) {
                    single.put(disk, new SingleSenderScenario(plan).run(disk, extension, pooled));
                }
                if (sender != null && plan.runs("storage")) {
                    StorageScenario.Result result = Progress.attempt("storage, " + disk.label,
                            () -> new StorageScenario(plan).run(disk, sender, pooled));
                    if (result != null) {
                        storage.add(result);
                    }
                }
                if (sender != null && plan.runs("retention")) {
                    RetentionScenario.Result result = Progress.attempt("retention, " + disk.label,
                            () -> new RetentionScenario(plan).run(disk, sender, pooled));
                    if (result != null) {
                        retention.add(result);
                    }
                }
                // The fleet on one disk: the 1 ms flush one when it is in the plan.
                boolean fleetDisk = disk == Disk.SLOW_FLUSH || !plan.disks().contains(Disk.SLOW_FLUSH);
                if (sender != null && receiver != null && fleetDisk && plan.runs("fleet")) {
                    fleet = Progress.attempt("fleet, " + disk.label,
                            () -> new FleetScenario(plan).run(disk, stack, apps, sender, receiver, pooled));
                }
                if (extension != null && first && plan.runs("connections")) {
                    connections = Progress.attempt("connection economy",
                            () -> new ConnectionScenario(plan).run(stack, extension));
                }
                if (extension != null && first && plan.runs("fanout")) {
                    fanOut = new FanOutScenario(plan).run(receiver, extension);
                }
            }
            // With the other receiver gone: it would receive the backlog too (every instance gets every message).
            if (sender != null && first && plan.runs("slow")) {
                slow = Progress.attempt("slow listener", () -> {
                    try (AppInstance slowReceiver = apps.slowReceiver(stack)) {
                        return new SlowListenerScenario(plan).run(slowReceiver, new ExtensionContender(sender,
                                slowReceiver));
                    }
                });
            }
            // Alone too: any other receiver would be a member of the group.
            if (plan.runs("groups")) {
                try (AgroalDataSource pooled = JdbcPool.of(stack.servers.pooledUrl(), stack.servers, 8)) {
                    GroupScenario.Result result = new GroupScenario(plan).run(stack, apps, sender, pooled);
                    groups.add(result);
                }
            }
            // Last: the snapshot held for ten minutes leaves the state table grown and vacuum behind, which weighed on
            // the scenarios after it (the groups' WAL per message went from about 800 B to 4.7 KB).
            boolean snapshotDisk = disk == Disk.SLOW_FLUSH || !plan.disks().contains(Disk.SLOW_FLUSH);
            if (sender != null && snapshotDisk && plan.runs("snapshot")) {
                // A receiving application again, which sequences, as in every other scenario.
                heldSnapshot = Progress.attempt("held snapshot, " + disk.label, () -> {
                    try (AppInstance receiver = apps.receiver(stack);
                            AgroalDataSource pooled = JdbcPool.of(stack.servers.pooledUrl(), stack.servers,
                                    Apps.SENDER_POOL)) {
                        return new HeldSnapshotScenario(plan).run(disk, stack, sender, pooled);
                    }
                });
            }
        }
    }

    /** JIT, connection pools (the sending application's up to the largest sender count), PgBouncer's servers. */
    private void warmUp(Disk disk, List<Contender> contenders, Pgbench pgbench) {
        Duration brief = Duration.ofSeconds(plan.quick() ? 1 : 2);
        int most = java.util.Arrays.stream(plan.senders()).max().orElse(8);
        Progress.attempt("warm-up, " + disk.label, () -> {
            for (Contender contender : contenders) {
                contender.closed(Runs.next(), 8, brief);
                contender.closed(Runs.next(), most, Duration.ofSeconds(1));
            }
            pgbench.run(Pgbench.Script.INSERT, 8, Duration.ofSeconds(1));
            return null;
        });
    }

    private Report report() {
        String versions = stacks.values().stream().findFirst().map(facts -> "PostgreSQL "
                + facts.postgres().getOrDefault("server_version", "?") + " and "
                + facts.pgbouncer().getOrDefault("version", "PgBouncer ?")).orElse("no servers");
        Report report = new Report(String.format("Generated by `%s` on %s: %d cores, %s %s, %s on loopback, started"
                + " by the harness with production durability (fsync, synchronous_commit and full_page_writes on;"
                + " details under Setup); %s. The sending and the receiving applications are separate JVMs; the"
                + " baselines and the peer run in the harness's JVM, on the same machine. The baselines' and the"
                + " peer's listening connections exist only during their own runs (PostgreSQL signals every"
                + " listening backend of the database for every notification); the receiving application's stays"
                + " up throughout. Every figure below comes from this run.", COMMAND, LocalDate.now(),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"), versions, plan.describe()));
        ThroughputChart chart = new ThroughputChart();
        Goals.evaluate(report, throughput, stacks, latency, slow);
        GroupScenario.goals(report, groups);
        StorageScenario.goals(report, storage);
        FleetScenario.goals(report, fleet);
        HeldSnapshotScenario.goals(report, heldSnapshot);
        MessagingScenario.goals(report, messaging);
        StackFacts.render(report, stacks, throughput);
        ThroughputScenario.render(report, throughput, chart);
        SingleSenderScenario.render(report, single);
        LatencyScenario.render(report, latency, plan.latencyThreads());
        SlowListenerScenario.render(report, slow);
        ConnectionScenario.render(report, connections);
        FanOutScenario.render(report, fanOut);
        GroupScenario.render(report, groups);
        StorageScenario.render(report, storage);
        RetentionScenario.render(report, retention);
        FleetScenario.render(report, fleet);
        HeldSnapshotScenario.render(report, heldSnapshot);
        MessagingScenario.render(report, messaging);
        if (!chart.isEmpty()) {
            report.chart(chart.svg());
        }
        running(report);
        return report;
    }

    /** How to run it and shorten it: configuration, not measurements. */
    private static void running(Report report) {
        List<List<String>> options = new ArrayList<>();
        options.add(List.of("`-Dbench.quick=true`", "smoke run of a few minutes: shorter steps, 1,000 SSE clients,"
                + " 2,000 slow-listener messages"));
        options.add(List.of("`-Dbench.disks=machine,1ms`", "which disks"));
        options.add(List.of("`-Dbench.scenarios=" + String.join(",", Plan.ALL_SCENARIOS) + "`", "which scenarios"));
        options.add(List.of("`-Dbench.senders=1,8,32,128`", "sender counts (throughput, connections)"));
        options.add(List.of("`-Dbench.seconds=8`", "length of one throughput measurement"));
        options.add(List.of("`-Dbench.slow.messages=100000`", "the slow listener's backlog"));
        options.add(List.of("`-Dbench.slow.sleep=1ms`", "the slow listener's time per message"));
        options.add(List.of("`-Dbench.slow.heap=128m`", "the slow listener's instance's maximum heap"));
        options.add(List.of("`-Dbench.flush.delay-micros=1000`", "what the shim adds to every flush"));
        options.add(List.of("`-Dbench.profile=true`", "wall-clock flame graphs (async-profiler) of the sending"
                + " application and the group scenario's members, into benchmarks/harness/target/profile-*.html"));
        options.add(List.of("`-Dbench.groups=1x1,4x2`", "the group scenario's groups, partitions x instances (all"
                + " four by default)"));
        options.add(List.of("`-Dbench.profile.event=cpu`, `-Dbench.profile.format=collapsed`", "what the profiler"
                + " samples (wall, cpu, alloc) and writes (html, collapsed stacks)"));
        report.section("Running the benchmark")
                .paragraph("`" + COMMAND + "` (about 35 to 40 minutes on 2 cores; not part of the test run). It needs"
                        + " PostgreSQL's server binaries, pgbench, PgBouncer (`scripts/prerequisites.sh`) and gcc; as"
                        + " root, the servers run as the `postgres` user. The applications' logs are kept in"
                        + " benchmarks/harness/target/bench-logs. Options (system properties of the verify command);"
                        + " with any of them, the report goes to benchmarks/harness/target/partial-docs instead of"
                        + " docs/:")
                .table(List.of("option", "effect"), options);
    }
}
