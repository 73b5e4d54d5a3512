package io.quarkiverse.busaltconnection.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.bench.StorageScenario.Side;

/**
 * The bus under full load while a REPEATABLE READ transaction stays open, as a long report, a pg_dump or a forgotten
 * session does: PostgreSQL can remove no row version that transaction might still see, so every version the bus
 * writes and then replaces stays until it ends. 32 senders send 1 KB messages back to back for one minute, then for
 * {@link #heldMinutes()} more while a transaction on the direct path holds its snapshot; each minute's rate, what waits
 * to be numbered at its end, and the size of the bus's state table.
 */
final class HeldSnapshotScenario {

    static final int SENDERS = 32;
    private static final int MINUTE = 60;

    /** One minute of load: whether the snapshot was held, the bus side, and what it left behind. */
    record Minute(int minute, boolean held, Side bus, long waiting, long stateTableBytes) {
    }

    record Result(Disk disk, List<Minute> minutes) {
    }

    private final Plan plan;

    HeldSnapshotScenario(Plan plan) {
        this.plan = plan;
    }

    private int heldMinutes() {
        return plan.quick() ? 1 : 10;
    }

    Result run(Disk disk, Stack stack, AppInstance sender, AgroalDataSource pooled) throws Exception {
        List<Minute> minutes = new ArrayList<>();
        minutes.add(minute(0, false, sender, pooled));
        try (Connection held = DriverManager.getConnection(stack.servers.directUrl(), stack.servers.user(),
                stack.servers.password()); Statement statement = held.createStatement()) {
            held.setAutoCommit(false);
            statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            // The snapshot is taken at the transaction's first query, and held until it ends.
            statement.executeQuery("SELECT count(*) FROM imdispatcher_bus_state").close();
            for (int m = 1; m <= heldMinutes(); m++) {
                minutes.add(minute(m, true, sender, pooled));
            }
            held.rollback();
        }
        return new Result(disk, minutes);
    }

    private Minute minute(int m, boolean held, AppInstance sender, AgroalDataSource pooled) throws Exception {
        long headBefore = StorageScenario.head(pooled);
        Spent.Mark mark = Spent.Mark.now(pooled);
        Load.Result sent = Http.post(sender.url() + "/bench/send/closed?run=" + Runs.next() + "&channel="
                + StorageScenario.CHANNEL + "&senders=" + SENDERS + "&seconds=" + MINUTE + "&size="
                + StorageScenario.SIZE, Load.Result.class);
        Spent spent = mark.until(pooled);
        long numbered = StorageScenario.head(pooled) - headBefore;
        Minute minute = new Minute(m, held, new Side(sent.sent(), sent.seconds(), spent), Math.max(0, sent.sent()
                - numbered), stateTableBytes(pooled));
        Progress.log("held snapshot, minute %d%s: %s msg/s, %s waiting to be numbered, state table %s B", m,
                held ? " (held)" : "", Fmt.rate(minute.bus().rate()), Fmt.number(minute.waiting()),
                Fmt.number(minute.stateTableBytes()));
        return minute;
    }

    private static long stateTableBytes(AgroalDataSource pooled) throws SQLException {
        try (Connection connection = pooled.getConnection();
                Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT pg_total_relation_size('imdispatcher_bus_state')")) {
            row.next();
            return row.getLong(1);
        }
    }

    static void goals(Report report, Result result) {
        if (result == null || result.minutes().size() < 2) {
            report.goal("A held snapshot under full load: the rate in its last minute ≥ 0.8× before", null,
                    "not in this run");
            return;
        }
        Minute before = result.minutes().get(0);
        Minute last = result.minutes().get(result.minutes().size() - 1);
        double ratio = last.bus().rate() / before.bus().rate();
        report.goal(String.format("%s: a snapshot held %d minutes under full load, the rate in its last minute ≥ 0.8×"
                + " the minute before it was taken", result.disk().label, last.minute()), ratio >= 0.8,
                String.format("%s against %s messages per second (%s)", Fmt.rate(last.bus().rate()),
                        Fmt.rate(before.bus().rate()), Fmt.ratio(ratio)));
    }

    static void render(Report report, Result result) {
        if (result == null) {
            return;
        }
        double first = result.minutes().get(0).bus().rate();
        List<List<String>> rows = new ArrayList<>();
        for (Minute m : result.minutes()) {
            rows.add(List.of(Fmt.number(m.minute()), m.held() ? "held" : "—", Fmt.rate(m.bus().rate()),
                    Fmt.ratio(m.bus().rate() / first),
                    String.format("%.2f", 1_000 * m.bus().spent().postgresCpuSeconds() / m.bus().messages()),
                    Fmt.number(m.waiting()), Fmt.number(m.stateTableBytes())));
        }
        report.section("Held snapshot: the bus while a REPEATABLE READ transaction stays open — "
                + result.disk().label)
                .paragraph(String.format("%d senders in the sending application send %s-byte messages (`Bus.send`,"
                        + " autocommit) back to back, one minute at a time: minute 0 as it is, then minutes while"
                        + " a REPEATABLE READ transaction on the direct path holds the snapshot of its first query,"
                        + " so that PostgreSQL removes no row version written after it. Waiting: messages sent in"
                        + " the minute and not numbered at its end. State table: the size of the bus's state row's"
                        + " table with its dead versions.", SENDERS, Fmt.number(StorageScenario.SIZE)))
                .table(List.of("minute", "snapshot", "bus msg/s", "÷ minute 0", "PostgreSQL CPU s per 1,000 msg",
                        "waiting at its end", "state table B"), rows);
    }
}
