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

import io.agroal.api.AgroalDataSource;

/**
 * Durable consumer groups against what people write by hand. A backlog of messages with keys is committed at once
 * (as {@code Bus.send(channel, key, payload)} writes them); the group's members (receiving applications with the group
 * "bench", whose method writes one row per message in the call's transaction) drain it; the rate is messages over the
 * time from the commit to the last row. The baseline: worker threads in the harness claiming outbox rows with
 * {@code DELETE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)} and writing one row, one transaction per
 * row, through the same PgBouncer, as many workers as the group has partitions. Then the takeover: the owner of a
 * one-partition group is killed (SIGKILL) in the middle of a backlog, and the time until the other member's first row
 * is measured.
 */
final class GroupScenario {

    /** Group configurations: partitions, instances. */
    private static final int[][] GROUPS = { { 1, 1 }, { 4, 1 }, { 1, 2 }, { 4, 2 } };
    private static final int[] WORKERS = { 1, 4 };
    /** Keys of the backlog: enough for every partition to get a share. */
    private static final int KEYS = 64;

    record Row(String label, int parallelism, int messages, double seconds, long duplicates) {

        double rate() {
            return messages / seconds;
        }
    }

    record Result(Disk disk, List<Row> groups, List<Row> skipLocked, Duration takeover, long takeoverDuplicates) {

        double groupRate(int partitions, int instances) {
            return groups.stream().filter(r -> r.label().equals(label(partitions, instances))).mapToDouble(Row::rate)
                    .findFirst().orElse(Double.NaN);
        }

        double skipLockedRate(int workers) {
            return skipLocked.stream().filter(r -> r.parallelism() == workers).mapToDouble(Row::rate).findFirst()
                    .orElse(Double.NaN);
        }
    }

    private final Plan plan;

    GroupScenario(Plan plan) {
        this.plan = plan;
    }

    private int messages() {
        return plan.quick() ? 1_000 : 5_000;
    }

    private int warmUp() {
        return plan.quick() ? 500 : 3_000;
    }

    Result run(Stack stack, Apps apps, AgroalDataSource pooled) throws Exception {
        execute(pooled, "CREATE TABLE IF NOT EXISTS bench_group_done (position bigint, k text, recorded_by bigint)");
        execute(pooled, "CREATE TABLE IF NOT EXISTS bench_jobs (id bigserial PRIMARY KEY, k text, payload text)");
        execute(pooled, "CREATE TABLE IF NOT EXISTS bench_jobs_done (id bigint, k text)");
        List<Row> groups = new ArrayList<>();
        for (int[] group : GROUPS) {
            groups.add(Progress.attempt("group, " + label(group[0], group[1]), () -> group(stack, apps, pooled,
                    group[0], group[1])));
        }
        List<Row> skipLocked = new ArrayList<>();
        for (int workers : WORKERS) {
            skipLocked.add(Progress.attempt("SKIP LOCKED, " + workers + " worker(s)", () -> skipLocked(pooled,
                    workers)));
        }
        groups.removeIf(java.util.Objects::isNull);
        skipLocked.removeIf(java.util.Objects::isNull);
        long[] duplicates = new long[1];
        Duration takeover = Progress.attempt("group takeover", () -> takeover(stack, apps, pooled, duplicates));
        return new Result(stack.disk, groups, skipLocked, takeover, duplicates[0]);
    }

    private Row group(Stack stack, Apps apps, AgroalDataSource pooled, int partitions, int instances)
            throws Exception {
        List<AppInstance> members = new ArrayList<>();
        try {
            for (int i = 0; i < instances; i++) {
                members.add(apps.groupMember(stack, partitions, "group-" + partitions + "p-" + i));
            }
            awaitOwned(members, partitions);
            // The members are new JVMs: a first backlog, not measured, compiles their path as the baseline's is.
            execute(pooled, "TRUNCATE bench_group_done");
            commitBacklog(pooled, warmUp());
            Await.count(warmUp(), Await.drain(warmUp()), Await.STALL, () -> count(pooled,
                    "SELECT count(*) FROM bench_group_done"));
            execute(pooled, "TRUNCATE bench_group_done");
            int messages = messages();
            long start = System.nanoTime();
            commitBacklog(pooled, messages);
            long done = Await.count(messages, Await.drain(messages), Await.STALL, () -> count(pooled,
                    "SELECT count(*) FROM bench_group_done"));
            double seconds = (System.nanoTime() - start) / 1e9;
            Progress.log("group %s: %d of %d in %.1f s", label(partitions, instances), done, messages, seconds);
            return new Row(label(partitions, instances), partitions, (int) done, seconds, duplicates(pooled));
        } finally {
            members.forEach(AppInstance::close);
        }
    }

    private Row skipLocked(AgroalDataSource pooled, int workers) throws Exception {
        drainJobs(pooled, workers, warmUp());
        return drainJobs(pooled, workers, messages());
    }

    private Row drainJobs(AgroalDataSource pooled, int workers, int messages) throws Exception {
        execute(pooled, "TRUNCATE bench_jobs, bench_jobs_done");
        try (Connection connection = pooled.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO bench_jobs (k, payload) SELECT"
                        + " 'k' || (g % " + KEYS + "), repeat('x', 100) FROM generate_series(1, ?) AS g")) {
            insert.setInt(1, messages);
            insert.executeUpdate();
        }
        ExecutorService threads = Executors.newFixedThreadPool(workers);
        long start = System.nanoTime();
        try {
            List<Future<Integer>> claimed = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                claimed.add(threads.submit(() -> work(pooled)));
            }
            int total = 0;
            for (Future<Integer> worker : claimed) {
                total += worker.get();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Row("SKIP LOCKED, " + workers + " worker(s)", workers, total, seconds, 0);
        } finally {
            threads.shutdownNow();
        }
    }

    /** One worker: claim a row, write its effect, commit; until none is left. Returns the rows it did. */
    private static int work(AgroalDataSource pooled) throws SQLException {
        int done = 0;
        while (true) {
            try (Connection connection = pooled.getConnection()) {
                connection.setAutoCommit(false);
                try (PreparedStatement claim = connection.prepareStatement("DELETE FROM bench_jobs WHERE id = (SELECT"
                        + " id FROM bench_jobs ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id, k");
                        ResultSet job = claim.executeQuery()) {
                    if (!job.next()) {
                        connection.commit();
                        return done;
                    }
                    try (PreparedStatement effect = connection.prepareStatement(
                            "INSERT INTO bench_jobs_done (id, k) VALUES (?, ?)")) {
                        effect.setLong(1, job.getLong(1));
                        effect.setString(2, job.getString(2));
                        effect.executeUpdate();
                    }
                }
                connection.commit();
                done++;
            }
        }
    }

    /** Two members of a one-partition group; the owner killed after a fifth of the backlog. */
    private Duration takeover(Stack stack, Apps apps, AgroalDataSource pooled, long[] duplicates) throws Exception {
        List<AppInstance> members = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                members.add(apps.groupMember(stack, 1, "group-takeover-" + i));
            }
            awaitOwned(members, 1);
            AppInstance owner = owned(members.get(0)) > 0 ? members.get(0) : members.get(1);
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

    private static void awaitOwned(List<AppInstance> members, int partitions) throws Exception {
        long owned = Await.count(partitions, Duration.ofSeconds(60), Duration.ofSeconds(60), () -> {
            long sum = 0;
            for (AppInstance member : members) {
                sum += owned(member);
            }
            return sum;
        });
        if (owned < partitions) {
            throw new IllegalStateException("the members own " + owned + " of " + partitions + " partitions");
        }
    }

    private static long owned(AppInstance member) throws Exception {
        return Http.get(member.url() + "/bench/group", Long.class);
    }

    /** The backlog in one transaction, rows as Bus.send(channel, key, payload) writes them. */
    private static void commitBacklog(AgroalDataSource pooled, int messages) throws SQLException {
        try (Connection connection = pooled.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO imdispatcher_bus (channel,"
                        + " payload, message_key) SELECT 'bench-group', repeat('x', 100), 'k' || (g % " + KEYS + ")"
                        + " FROM generate_series(1, ?) AS g ORDER BY g")) {
            insert.setInt(1, messages);
            insert.executeUpdate();
        }
    }

    /** Messages whose row was written more than once. */
    private static long duplicates(AgroalDataSource pooled) throws SQLException {
        return count(pooled, "SELECT count(*) - count(DISTINCT position) FROM bench_group_done");
    }

    private static long count(AgroalDataSource pooled, String sql) throws SQLException {
        try (Connection connection = pooled.getConnection();
                Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery(sql)) {
            row.next();
            return row.getLong(1);
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
                double base = r.skipLockedRate(row.parallelism());
                report.goal(r.disk().label + ": group, " + row.label() + " ≥ 0.8× SKIP LOCKED with " + row
                        .parallelism() + " worker(s)", row.rate() >= 0.8 * base, String.format(
                                "%s against %s"
                                        + " messages per second (%s)",
                                Fmt.rate(row.rate()), Fmt.rate(base),
                                Fmt.ratio(row.rate() / base)));
            }
            double one = r.groupRate(1, 1);
            double spread = r.groupRate(4, 2);
            report.goal(r.disk().label + ": 4 partitions on two instances ≥ 1.6× one partition", Double.isNaN(one)
                    || Double.isNaN(spread) ? null : spread >= 1.6 * one, String.format(
                            "%s against %s messages per"
                                    + " second (%s)",
                            Fmt.rate(spread), Fmt.rate(one), Fmt.ratio(spread / one)));
            report.goal(r.disk().label + ": takeover after kill -9 of the owner < 5 s", r.takeover() == null ? null
                    : r.takeover().toMillis() < 5_000,
                    r.takeover() == null ? "not measured"
                            : Fmt.number(r.takeover().toMillis()) + " ms");
        }
    }

    static void render(Report report, List<Result> results) {
        for (Result r : results) {
            List<List<String>> rows = new ArrayList<>();
            for (Row row : r.groups()) {
                double base = r.skipLockedRate(row.parallelism());
                rows.add(List.of("group: " + row.label(), Fmt.number(row.messages()), String.format("%.1f",
                        row.seconds()), Fmt.rate(row.rate()), Fmt.ratio(row.rate() / base),
                        Fmt.number(row
                                .duplicates())));
            }
            for (Row row : r.skipLocked()) {
                rows.add(List.of(row.label(), Fmt.number(row.messages()), String.format("%.1f", row.seconds()),
                        Fmt.rate(row.rate()), "1×", "—"));
            }
            report.section("Durable consumer groups — " + r.disk().label)
                    .paragraph(String.format("A backlog of messages with %d keys committed at once, after a first one"
                            + " that is not measured (the members are new JVMs; the workers run in the harness, warm);"
                            + " a group whose"
                            + " method writes one row per message in the call's transaction drains it on one or two"
                            + " receiving applications, against worker threads claiming outbox rows with `SELECT ..."
                            + " FOR UPDATE SKIP LOCKED` and deleting them, one row per transaction, through the same"
                            + " PgBouncer, as many workers as the group has partitions (the workers keep no order;"
                            + " the group keeps each key's). Rate: messages from the commit to the last row."
                            + " Duplicates: messages whose row was written twice. Takeover: a one-partition group on"
                            + " two instances, the owner killed (SIGKILL) after a fifth of the backlog; from the kill"
                            + " to the other member's first row: %s ms, %s duplicate(s) once the backlog was done.",
                            KEYS, r.takeover() == null ? "—" : Fmt.number(r.takeover().toMillis()),
                            Fmt.number(r.takeoverDuplicates())))
                    .table(List.of("consumer", "messages", "seconds", "messages/s", "÷ SKIP LOCKED, same parallelism",
                            "duplicates"), rows);
        }
    }
}
