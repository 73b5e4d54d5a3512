package io.quarkiverse.busaltconnection.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.agroal.api.AgroalDataSource;

/**
 * What a message costs the database, like for like: the same payloads, from the same sending application, its pool and
 * PgBouncer, once as {@code Bus.send} (autocommit) and once as a plain INSERT into a table with a primary key. Each side
 * starts after a CHECKPOINT (so both pay the same full-page images) and ends when every message is numbered (the bus)
 * or committed (the plain INSERT); PostgreSQL's WAL position and next transaction id before and after give the WAL
 * bytes and the transaction ids per message, the senders' own count and time the rate.
 */
final class StorageScenario {

    static final String CHANNEL = "bench-storage";
    static final int SIZE = 1_024;
    private static final int[] SENDERS = { 1, 4, 32 };

    /** One side at one sender count: messages, seconds, and what the database and machine spent. */
    record Side(long messages, double seconds, Spent spent) {

        double rate() {
            return messages / seconds;
        }

        double walPerMessage() {
            return (double) spent.walBytes() / messages;
        }

        double xidsPerMessage() {
            return (double) spent.xids() / messages;
        }
    }

    record Row(int senders, Side bus, Side plain) {
    }

    record Result(Disk disk, List<Row> rows) {

        Row at(int senders) {
            return rows.stream().filter(r -> r.senders() == senders).findFirst().orElse(null);
        }
    }

    private final Plan plan;

    StorageScenario(Plan plan) {
        this.plan = plan;
    }

    /** Messages per side: about ten seconds' worth on the 1 ms disk. */
    long messages(int senders) {
        long base = senders == 1 ? 3_000 : senders <= 4 ? 8_000 : 20_000;
        return plan.quick() ? base / 5 : base;
    }

    Result run(Disk disk, AppInstance sender, AgroalDataSource pooled) throws Exception {
        execute(pooled, "CREATE TABLE IF NOT EXISTS bench_plain (id bigserial PRIMARY KEY, channel text NOT NULL,"
                + " payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
        // Warm-up of both paths (JIT, pool), not measured.
        plain(sender, pooled, 8, 2_000);
        bus(sender, pooled, 8, 2_000);
        List<Row> rows = new ArrayList<>();
        for (int senders : SENDERS) {
            Row row = Progress.attempt("storage, " + senders + " sender(s), " + disk.label, () -> {
                long count = messages(senders);
                Side bus = bus(sender, pooled, senders, count);
                Side plain = plain(sender, pooled, senders, count);
                Progress.log("storage, %d sender(s): bus %s msg/s, %s B, %.2f xids; plain INSERT %s msg/s, %s B,"
                        + " %.2f xids", senders, Fmt.rate(bus.rate()), Fmt.number((long) bus.walPerMessage()),
                        bus.xidsPerMessage(), Fmt.rate(plain.rate()), Fmt.number((long) plain.walPerMessage()),
                        plain.xidsPerMessage());
                return new Row(senders, bus, plain);
            });
            if (row != null) {
                rows.add(row);
            }
        }
        return new Result(disk, rows);
    }

    /** The bus side: {@code count} messages from {@code senders} threads, until the last is numbered. */
    Side bus(AppInstance sender, AgroalDataSource pooled, int senders, long count) throws Exception {
        execute(pooled, "CHECKPOINT");
        long head = head(pooled);
        Spent.Mark mark = Spent.Mark.now(pooled);
        Load.Result sent = Http.post(sender.url() + "/bench/send/closed?run=" + Runs.next() + "&channel=" + CHANNEL
                + "&senders=" + senders + "&seconds=300&count=" + count + "&size=" + SIZE, Load.Result.class);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (head(pooled) < head + sent.sent()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the bus numbered " + (head(pooled) - head) + " of " + sent.sent()
                        + " messages within a minute");
            }
            Thread.sleep(20);
        }
        return new Side(sent.sent(), sent.seconds(), mark.until(pooled));
    }

    private Side plain(AppInstance sender, AgroalDataSource pooled, int senders, long count) throws Exception {
        execute(pooled, "CHECKPOINT");
        Spent.Mark mark = Spent.Mark.now(pooled);
        Load.Result sent = Http.post(sender.url() + "/bench/insert/closed?run=" + Runs.next() + "&channel=" + CHANNEL
                + "&senders=" + senders + "&seconds=300&count=" + count + "&size=" + SIZE, Load.Result.class);
        return new Side(sent.sent(), sent.seconds(), mark.until(pooled));
    }

    static long head(AgroalDataSource pooled) throws SQLException {
        try (Connection connection = pooled.getConnection();
                Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT last_position FROM imdispatcher_bus_state")) {
            row.next();
            return row.getLong(1);
        }
    }

    static void execute(AgroalDataSource pooled, String sql) throws SQLException {
        try (Connection connection = pooled.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    static void goals(Report report, List<Result> results) {
        if (results.isEmpty()) {
            report.goal("WAL per 1 KB message ≤ 1.3× a plain INSERT's", null, "not in this run");
            return;
        }
        for (Result r : results) {
            for (int senders : new int[] { 1, 32 }) {
                Row row = r.at(senders);
                if (row == null) {
                    continue;
                }
                report.goal(r.disk().label + ", " + senders + " sender(s): WAL per 1 KB message ≤ 1.3× a plain"
                        + " INSERT's", row.bus().walPerMessage() <= 1.3 * row.plain().walPerMessage(),
                        String.format("%s B against %s B (%s)", Fmt.number((long) row.bus().walPerMessage()),
                                Fmt.number((long) row.plain().walPerMessage()),
                                Fmt.ratio(row.bus().walPerMessage() / row.plain().walPerMessage())));
                report.goal(r.disk().label + ", " + senders + " sender(s): transaction ids per message ≤ 1.1",
                        row.bus().xidsPerMessage() <= 1.1, String.format("%.2f (the plain INSERT: %.2f)",
                                row.bus().xidsPerMessage(), row.plain().xidsPerMessage()));
            }
            if (r.disk() == Disk.SLOW_FLUSH) {
                for (int senders : new int[] { 1, 32 }) {
                    Row row = r.at(senders);
                    if (row == null) {
                        continue;
                    }
                    double floor = senders == 1 ? 0.8 : 0.9;
                    report.goal(r.disk().label + ", " + senders + " sender(s): ≥ " + floor + "× the plain INSERT's"
                            + " rate through the same application", row.bus().rate() >= floor * row.plain().rate(),
                            String.format("%s against %s messages per second (%s)", Fmt.rate(row.bus().rate()),
                                    Fmt.rate(row.plain().rate()), Fmt.ratio(row.bus().rate() / row.plain().rate())));
                }
            }
        }
    }

    static void render(Report report, List<Result> results) {
        for (Result r : results) {
            List<List<String>> rows = new ArrayList<>();
            for (Row row : r.rows()) {
                rows.add(List.of(Fmt.number(row.senders()), Fmt.number(row.bus().messages()),
                        Fmt.rate(row.bus().rate()), Fmt.rate(row.plain().rate()),
                        Fmt.ratio(row.bus().rate() / row.plain().rate()),
                        Fmt.number((long) row.bus().walPerMessage()), Fmt.number((long) row.plain().walPerMessage()),
                        Fmt.ratio(row.bus().walPerMessage() / row.plain().walPerMessage()),
                        String.format("%.2f", row.bus().xidsPerMessage()),
                        String.format("%.2f", row.plain().xidsPerMessage())));
            }
            report.section("Storage: what a message costs the database — " + r.disk().label)
                    .paragraph(String.format("The same %s-byte payloads from the sending application, its pool and"
                            + " PgBouncer: `Bus.send` outside a transaction, and a plain INSERT into a table with a"
                            + " primary key (`bench_plain`: id, channel, payload, time), each in autocommit, from as"
                            + " many threads as senders. Each side starts after a CHECKPOINT, so that both pay the"
                            + " same full-page images; the bus's ends when the last message is numbered, the plain"
                            + " INSERT's when the last one commits. WAL: PostgreSQL's WAL position before and after;"
                            + " transaction ids: its next transaction id before and after. Rates: messages over the"
                            + " senders' time.", Fmt.number(SIZE)))
                    .table(List.of("senders", "messages", "bus msg/s", "plain INSERT msg/s", "bus ÷ plain",
                            "bus WAL B/msg", "plain WAL B/msg", "bus ÷ plain", "bus xids/msg", "plain xids/msg"),
                            rows);
        }
    }
}
