package io.quarkiverse.busaltconnection.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

import io.agroal.api.AgroalDataSource;

/**
 * Durable consumer groups against what people write by hand. A backlog of messages with keys is committed at once
 * (as {@code Bus.send(channel, key, payload)} writes them, with its wake-up of the sequencer); the group's members (receiving
 * applications with the group
 * "bench", whose method writes one row per message in the call's transaction) drain it; the rate is messages over the
 * time from the commit to the last row. The baseline runs right after, in the same applications: worker threads
 * claiming outbox rows with {@code DELETE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)} and writing one
 * row, one JTA transaction per row on the same datasource and PgBouncer, as many workers as the group has partitions
 * (spread over as many of the applications as have a partition). Then the latency: a group member and a broadcast
 * listener timed on the same messages at 100 per second. Then the takeover: the owner of a one-partition group is
 * killed (SIGKILL) in the middle of a backlog, and the time until the other member's first row is measured.
 */
final class GroupScenario {

    /** Group configurations, partitions x instances; {@code -Dbench.groups} picks some. */
    private static final String GROUPS = "1x1,4x1,1x2,4x2";
    /**
     * Keys of the backlog: enough for hashing to give every partition about the same share (64 keys gave one of four partitions
     * 24 and another 11), as per-entity keys (customers, orders) do.
     */
    private static final int KEYS = 1_024;
    /** The latency part's offered rate, messages per second. */
    static final int LATENCY_RATE = 100;
    private static final String LATENCY_CHANNEL = "bench-latency";

    /**
     * Drains of a backlog: the group's, or the SKIP LOCKED workers' in the same applications; with what the machine
     * and the database spent from the backlog's INSERT to its last row.
     */
    record Drain(int messages, double seconds, Spent spent) {

        double rate() {
            return messages / seconds;
        }

        /** Per message: the machine's CPU (PostgreSQL's, the JVMs'), WAL, transaction ids. */
        String costPerMessage() {
            return String.format("%.2f ms (%.2f, %.2f), %s B, %.2f", spent.cpuSeconds() * 1000 / messages,
                    spent.postgresCpuSeconds() * 1000 / messages, spent.jvmCpuSeconds() * 1000 / messages,
                    Fmt.number(spent.walBytes() / messages), (double) spent.xids() / messages);
        }

        Drain plus(Drain other) {
            return new Drain(messages + other.messages, seconds + other.seconds, spent.plus(other.spent));
        }
    }

    record Row(int partitions, int instances, Drain group, long duplicates, Drain skipLocked) {

        String label() {
            return GroupScenario.label(partitions, instances);
        }

        /** The SKIP LOCKED workers' parallelism: one per partition. */
        int workers() {
            return partitions;
        }
    }

    /** p50s at {@link #LATENCY_RATE} from the same messages; null when not measured. */
    record Latency(RunStats broadcast, RunStats group) {
    }

    record Result(Disk disk, int warmUp, List<Row> groups, Latency latency, Duration takeover,
            long takeoverDuplicates) {

        double groupRate(int partitions, int instances) {
            return rate(partitions, instances, Row::group);
        }

        /** The SKIP LOCKED workers' rate at the same parallelism: what this machine allows the same work. */
        double skipLockedRate(int partitions, int instances) {
            return rate(partitions, instances, Row::skipLocked);
        }

        private double rate(int partitions, int instances, Function<Row, Drain> side) {
            return groups.stream().filter(r -> r.partitions() == partitions && r.instances() == instances)
                    .mapToDouble(r -> side.apply(r).rate()).findFirst().orElse(Double.NaN);
        }
    }

    private final Plan plan;

    GroupScenario(Plan plan) {
        this.plan = plan;
    }

    private int messages() {
        return plan.quick() ? 1_000 : 5_000;
    }

    /**
     * The backlog of each kind drained before anything is measured, per working member. With 3,000 the JIT was still
     * at work in the measured drains (half of a member's CPU samples over its life), more on the group's path, which
     * has more code: the group's JVM CPU per message fell from 0.58 to 0.42 ms at 10,000, the workers' from 0.27 to
     * 0.22 ms. Shared by two members, 10,000 left each half warm: 4 partitions on two instances took 0.71 ms of the
     * JVMs' CPU per message against 0.30 ms on one.
     */
    private int warmUp() {
        return plan.quick() ? 500 : 10_000;
    }

    /** @param sender the sending application, for the latency part; null skips it */
    Result run(Stack stack, Apps apps, AppInstance sender, AgroalDataSource pooled) throws Exception {
        execute(pooled, "CREATE TABLE IF NOT EXISTS bench_group_done (position bigint, k text, recorded_by bigint)");
        execute(pooled, "ALTER TABLE bench_group_done ADD COLUMN IF NOT EXISTS done_at timestamptz"
                + " DEFAULT clock_timestamp()");
        execute(pooled, "CREATE TABLE IF NOT EXISTS bench_jobs (id bigserial PRIMARY KEY, k text, payload text)");
        execute(pooled, "CREATE TABLE IF NOT EXISTS bench_jobs_done (id bigint, k text)");
        List<Row> groups = new ArrayList<>();
        for (String configuration : System.getProperty("bench.groups", GROUPS).split(",")) {
            String[] sides = configuration.trim().split("x");
            int[] group = { Integer.parseInt(sides[0]), Integer.parseInt(sides[1]) };
            groups.add(Progress.attempt("group, " + label(group[0], group[1]), () -> group(stack, apps, pooled,
                    group[0], group[1])));
        }
        groups.removeIf(java.util.Objects::isNull);
        Latency latency = sender == null ? null
                : Progress.attempt("group latency", () -> latency(stack, apps, sender));
        long[] duplicates = new long[1];
        Duration takeover = Progress.attempt("group takeover", () -> takeover(stack, apps, pooled, duplicates));
        return new Result(stack.disk, warmUp(), groups, latency, takeover, duplicates[0]);
    }

    private Row group(Stack stack, Apps apps, AgroalDataSource pooled, int partitions, int instances)
            throws Exception {
        List<AppInstance> members = new ArrayList<>();
        try {
            for (int i = 0; i < instances; i++) {
                members.add(apps.groupMember(stack, partitions, "group-" + partitions + "p-" + i));
            }
            awaitOwned(members, GroupWorkerGroup.BENCH, partitions);
            // Only the members that had a partition work in the baseline: the same parallelism, the same JVMs.
            List<AppInstance> working = members.subList(0, Math.min(instances, partitions));
            // The members are new JVMs: a first backlog of each kind, not measured, compiles both paths before
            // either is measured (the JIT takes much of the two cores at first).
            drainBacklog(pooled, warmUp() * working.size());
            drainJobs(pooled, working, partitions, warmUp() * working.size());
            // Measured in the order group, workers, workers, group: whatever drifts during the run (the JIT still at
            // work, the disk, vacuum) weighs on both alike.
            Drain group = drainBacklog(pooled, messages());
            logPartitionsDone(pooled, partitions);
            long duplicates = duplicates(pooled);
            Drain skipLocked = drainJobs(pooled, working, partitions, messages());
            skipLocked = skipLocked.plus(drainJobs(pooled, working, partitions, messages()));
            group = group.plus(drainBacklog(pooled, messages()));
            logPartitionsDone(pooled, partitions);
            duplicates += duplicates(pooled);
            Progress.log("group %s: %d in %.1f s; per message CPU, WAL, xids: %s", label(partitions, instances),
                    group.messages(), group.seconds(), group.costPerMessage());
            Progress.log("SKIP LOCKED, %d worker(s) in %d application(s): %d in %.1f s; per message CPU, WAL, xids: %s",
                    partitions, working.size(), skipLocked.messages(), skipLocked.seconds(),
                    skipLocked.costPerMessage());
            return new Row(partitions, instances, group, duplicates, skipLocked);
        } finally {
            members.forEach(AppInstance::close);
        }
    }

    /** Commits a backlog of {@code messages} for the group and waits until its members have done it. */
    private static Drain drainBacklog(AgroalDataSource pooled, int messages) throws Exception {
        execute(pooled, "TRUNCATE bench_group_done");
        Spent.Mark before = Spent.Mark.now(pooled);
        commitBacklog(pooled, messages);
        // From the backlog's commit, as the workers' drain is timed from their outbox's.
        long start = System.nanoTime();
        // Every 100 ms: the count is a query, whose cost would be the group's alone (the workers' drain ends when
        // their HTTP call returns) ...
        long done = Await.count(messages, Await.drain(messages), Await.STALL, Duration.ofMillis(100), () -> count(
                pooled, "SELECT count(*) FROM bench_group_done"));
        long seen = System.nanoTime();
        // ... so the last row was written up to 100 ms before it was seen: by the database's clock, how long before.
        double late = number(pooled, "SELECT extract(epoch FROM clock_timestamp() - max(done_at))"
                + " FROM bench_group_done");
        return new Drain((int) done, (seen - start) / 1e9 - late, before.until(pooled));
    }

    /** {@code workers} threads spread over {@code apps} drain a fresh outbox of {@code messages} rows. */
    private static Drain drainJobs(AgroalDataSource pooled, List<AppInstance> apps, int workers, int messages)
            throws Exception {
        execute(pooled, "TRUNCATE bench_jobs, bench_jobs_done");
        Spent.Mark before = Spent.Mark.now(pooled);
        try (Connection connection = pooled.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO bench_jobs (k, payload) SELECT"
                        + " 'k' || (g % " + KEYS + "), repeat('x', 100) FROM generate_series(1, ?) AS g")) {
            insert.setInt(1, messages);
            insert.executeUpdate();
        }
        ExecutorService calls = Executors.newFixedThreadPool(apps.size());
        long start = System.nanoTime();
        try {
            List<Future<Integer>> drained = new ArrayList<>();
            for (AppInstance app : apps) {
                drained.add(calls.submit(() -> Http.post(app.url() + "/bench/skip-locked?workers="
                        + workers / apps.size(), Integer.class)));
            }
            int total = 0;
            for (Future<Integer> done : drained) {
                total += done.get();
            }
            return new Drain(total, (System.nanoTime() - start) / 1e9, before.until(pooled));
        } finally {
            calls.shutdownNow();
        }
    }

    /**
     * One member with a broadcast listener and a group member on the same channel; the sending application offers
     * {@link #LATENCY_RATE} messages per second, and both are timed on the same messages.
     */
    private Latency latency(Stack stack, Apps apps, AppInstance sender) throws Exception {
        try (AppInstance member = apps.groupMember(stack, 1, "group-latency")) {
            awaitOwned(List.of(member), GroupWorkerGroup.LATENCY, 1);
            // A new JVM: its path compiled, and the previous step's JVMs gone, before it is timed.
            offer(sender, member, Runs.next(), Duration.ofSeconds(plan.quick() ? 2 : 15));
            return offer(sender, member, Runs.next(), plan.latencyRun(LATENCY_RATE));
        }
    }

    private Latency offer(AppInstance sender, AppInstance member, String run, Duration duration) throws Exception {
        Load.Result sent = Http.post(sender.url() + "/bench/send/open?run=" + run + "&channel=" + LATENCY_CHANNEL
                + "&rate=" + LATENCY_RATE + "&seconds=" + duration.toMillis() / 1000.0 + "&threads="
                + plan.latencyThreads(), Load.Result.class);
        RunStats[] stats = new RunStats[2];
        String[] prefixes = { "broadcast-", "group-" };
        for (int i = 0; i < prefixes.length; i++) {
            String receipts = member.url() + "/bench/count?run=" + prefixes[i] + run;
            Await.count(sent.sent(), Await.drain(sent.sent()), Await.STALL, () -> Http.get(receipts, Integer.class));
            String url = member.url() + "/bench/stats?run=" + prefixes[i] + run;
            stats[i] = Http.get(url, RunStats.class);
            Http.delete(url);
        }
        return new Latency(stats[0], stats[1]);
    }

    /** Two members of a one-partition group; the owner killed after a fifth of the backlog. */
    private Duration takeover(Stack stack, Apps apps, AgroalDataSource pooled, long[] duplicates) throws Exception {
        List<AppInstance> members = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                members.add(apps.groupMember(stack, 1, "group-takeover-" + i));
            }
            awaitOwned(members, GroupWorkerGroup.BENCH, 1);
            AppInstance owner = owned(members.get(0), GroupWorkerGroup.BENCH) > 0 ? members.get(0) : members.get(1);
            execute(pooled, "TRUNCATE bench_group_done");
            int messages = messages();
            commitBacklog(pooled, messages);
            Await.count(messages / 5, Duration.ofMinutes(2), Await.STALL, () -> count(pooled,
                    "SELECT count(*) FROM bench_group_done"));
            owner.kill();
            long killed = System.nanoTime();
            long before = count(pooled, "SELECT count(*) FROM bench_group_done");
            Await.count(before + 1, Duration.ofMinutes(1), Duration.ofMinutes(1), () -> count(pooled,
                    "SELECT count(*) FROM bench_group_done"));
            Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
            Await.count(messages, Await.drain(messages), Await.STALL, () -> count(pooled,
                    "SELECT count(*) FROM bench_group_done"));
            duplicates[0] = duplicates(pooled);
            Progress.log("group takeover after kill -9: %d ms, %d duplicate(s)", takeover.toMillis(), duplicates[0]);
            return takeover;
        } finally {
            members.forEach(AppInstance::close);
        }
    }

    /** The receiving application's groups. */
    enum GroupWorkerGroup {
        BENCH("bench"),
        LATENCY("latency");

        final String name;

        GroupWorkerGroup(String name) {
            this.name = name;
        }
    }

    private static void awaitOwned(List<AppInstance> members, GroupWorkerGroup group, int partitions)
            throws Exception {
        long owned = Await.count(partitions, Duration.ofSeconds(60), Duration.ofSeconds(60), () -> {
            long sum = 0;
            for (AppInstance member : members) {
                sum += owned(member, group);
            }
            return sum;
        });
        if (owned < partitions) {
            throw new IllegalStateException("the members own " + owned + " of " + partitions + " partitions");
        }
    }

    private static long owned(AppInstance member, GroupWorkerGroup group) throws Exception {
        return Http.get(member.url() + "/bench/group?name=" + group.name, Long.class);
    }

    /** The backlog in one transaction, rows as Bus.send(channel, key, payload) writes them. */
    private static void commitBacklog(AgroalDataSource pooled, int messages) throws SQLException {
        try (Connection connection = pooled.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO imdispatcher_bus (channel,"
                        + " payload, message_key) SELECT 'bench-group', repeat('x', 100), 'k' || (g % " + KEYS + ")"
                        + " FROM generate_series(1, ?) AS g ORDER BY g")) {
            insert.setInt(1, messages);
            insert.executeUpdate();
            // And the wake-up a sender's commit sends the sequencer (BusTable.wakeUp(); it is idle here, so it would
            // notify). Without it the sequencer found the backlog at its next sweep, up to a second later, which
            // counted against the group: on this machine's disk half a second of each 5,000 messages' drain.
            try (Statement wake = connection.createStatement()) {
                wake.execute("SELECT pg_notify('imdispatcher_bus', '')");
            }
        }
    }

    /** Messages whose row was written more than once. */
    private static long duplicates(AgroalDataSource pooled) throws SQLException {
        return count(pooled, "SELECT count(*) - count(DISTINCT position) FROM bench_group_done");
    }

    /**
     * When each partition wrote its last row, from the drain's first, and how many rows it wrote: a partition's
     * backlog stays with its owner, so the drain ends with the slowest partition, where workers share one queue.
     */
    private static void logPartitionsDone(AgroalDataSource pooled, int partitions) throws SQLException {
        List<String> done = new ArrayList<>();
        try (Connection connection = pooled.getConnection();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT (hashtext(k) & 2147483647) % " + partitions
                        + ", count(*), extract(epoch FROM max(done_at) - (SELECT min(done_at) FROM bench_group_done))"
                        + " FROM bench_group_done GROUP BY 1 ORDER BY 1")) {
            while (rows.next()) {
                done.add(String.format("%d: %d rows, last at %.2f s", rows.getInt(1), rows.getLong(2),
                        rows.getDouble(3)));
            }
        }
        Progress.log("group partitions done: %s", String.join("; ", done));
    }

    private static long count(AgroalDataSource pooled, String sql) throws SQLException {
        return (long) number(pooled, sql);
    }

    /** The one number {@code sql} answers. */
    static double number(AgroalDataSource pooled, String sql) throws SQLException {
        try (Connection connection = pooled.getConnection();
                Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery(sql)) {
            row.next();
            return row.getDouble(1);
        }
    }

    private static void execute(AgroalDataSource pooled, String sql) throws SQLException {
        try (Connection connection = pooled.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    static String label(int partitions, int instances) {
        return partitions + " partition(s), " + instances + " instance(s)";
    }

    /** The goals for groups, from each disk's run. */
    static void goals(Report report, List<Result> results) {
        if (results.isEmpty()) {
            report.goal("groups ≥ 0.8× SKIP LOCKED workers at equal parallelism", null, "not in this run");
            return;
        }
        for (Result r : results) {
            for (Row row : r.groups()) {
                double base = row.skipLocked().rate();
                report.goal(r.disk().label + ": group, " + row.label() + " ≥ 0.8× SKIP LOCKED with " + row.workers()
                        + " worker(s) in the same application(s)", row.group().rate() >= 0.8 * base,
                        String.format("%s against %s messages per second (%s)", Fmt.rate(row.group().rate()),
                                Fmt.rate(base), Fmt.ratio(row.group().rate() / base)));
            }
            double one = r.groupRate(1, 1);
            double spread = r.groupRate(4, 2);
            // The workers' own spread says how much more the machine gives the same work with four times the
            // parallelism: on a fast disk one worker already keeps most of the two cores busy.
            double workersSpread = r.skipLockedRate(4, 2) / r.skipLockedRate(1, 1);
            report.goal(r.disk().label + ": 4 partitions on two instances ≥ 1.6× one partition", Double.isNaN(one)
                    || Double.isNaN(spread) ? null : spread >= 1.6 * one,
                    String.format("%s against %s messages per second (%s; the SKIP LOCKED workers, 4 on two"
                            + " instances against 1: %s)", Fmt.rate(spread), Fmt.rate(one), Fmt.ratio(spread / one),
                            Double.isNaN(workersSpread) ? "not measured" : Fmt.ratio(workersSpread)));
            Latency latency = r.latency();
            boolean measured = latency != null && latency.group().p50() != null && latency.broadcast().p50() != null;
            report.goal(r.disk().label + ": group p50 send-to-processed within 2 ms of a broadcast listener's at "
                    + LATENCY_RATE + " msg/s", measured ? latency.group().p50() - latency.broadcast().p50() <= 2 : null,
                    measured ? String.format("%s ms against %s ms", Fmt.ms(latency.group().p50()),
                            Fmt.ms(latency.broadcast().p50())) : "not measured");
            report.goal(r.disk().label + ": takeover after kill -9 of the owner < 5 s", r.takeover() == null ? null
                    : r.takeover().toMillis() < 5_000,
                    r.takeover() == null ? "not measured" : Fmt.number(r.takeover().toMillis()) + " ms");
        }
    }

    static void render(Report report, List<Result> results) {
        for (Result r : results) {
            List<List<String>> rows = new ArrayList<>();
            for (Row row : r.groups()) {
                rows.add(List.of(row.label(), Fmt.number(row.group().messages()), String.format("%.1f",
                        row.group().seconds()), Fmt.rate(row.group().rate()), Fmt.number(row.duplicates()),
                        Fmt.rate(row.skipLocked().rate()), Fmt.ratio(row.group().rate() / row.skipLocked().rate()),
                        row.group().costPerMessage(), row.skipLocked().costPerMessage()));
            }
            Latency latency = r.latency();
            report.section("Durable consumer groups — " + r.disk().label)
                    .paragraph(String.format("A backlog of messages with %d keys committed at once; a group whose"
                            + " method writes one row per message in the call's transaction drains it on one or two"
                            + " receiving applications. Right after, in the same applications, the baseline: worker"
                            + " threads claiming outbox rows with `SELECT ... FOR UPDATE SKIP LOCKED` and deleting"
                            + " them, one JTA transaction per row on the same datasource and PgBouncer, as many"
                            + " workers as the group has partitions (the workers keep no order; the group keeps each"
                            + " key's). The members are new JVMs: a backlog of each kind (%s messages per working member), not measured,"
                            + " runs before either is measured, so that the JIT is done; then each is measured twice,"
                            + " in the order group, workers, workers, group, and the two drains are added up. Rate:"
                            + " messages from the backlog's commit (the group's messages', or the workers' outbox rows') to the last row (for"
                            + " the group, whose rows are counted every 100 ms, the last row's time by the database's"
                            + " clock). Duplicates: messages whose row was written twice. Per message,"
                            + " from the backlog's INSERT to the last row: the machine's busy CPU time (`/proc/stat`:"
                            + " PostgreSQL, PgBouncer, the applications and the harness together; in parentheses"
                            + " PostgreSQL's processes' part and the JVMs'), the WAL bytes written and the transaction"
                            + " ids assigned.", KEYS, Fmt.number(r.warmUp())))
                    .table(List.of("group", "messages", "seconds", "messages/s", "duplicates",
                            "SKIP LOCKED messages/s", "group ÷ SKIP LOCKED", "group: CPU, WAL, xids per message",
                            "SKIP LOCKED: CPU, WAL, xids per message"), rows)
                    .paragraph(latency == null ? "Latency: not measured."
                            : String.format("Latency at %d messages per second, `Bus.send` in the sending application,"
                                    + " a group member and a broadcast listener on the same channel in one receiving"
                                    + " application, both on worker threads, timed on the same %s messages from"
                                    + " their scheduled send time: p50 %s ms (group) and %s ms (broadcast), p99 %s"
                                    + " ms and %s ms.", LATENCY_RATE, Fmt.number(latency.group().count()),
                                    Fmt.ms(latency.group().p50()), Fmt.ms(latency.broadcast().p50()),
                                    Fmt.ms(latency.group().p99()), Fmt.ms(latency.broadcast().p99())))
                    .paragraph(String.format("Takeover: a one-partition group on two instances, the owner killed"
                            + " (SIGKILL) after a fifth of the backlog; from the kill to the other member's first"
                            + " row: %s ms, %s duplicate(s) once the backlog was done.",
                            r.takeover() == null ? "—" : Fmt.number(r.takeover().toMillis()),
                            Fmt.number(r.takeoverDuplicates())));
        }
    }
}
