package io.quarkiverse.busaltconnection.bench;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import io.agroal.api.AgroalDataSource;

/**
 * What removing messages costs the database, the two ways the bus's retention has: a slot left behind emptied with one
 * TRUNCATE, and rows deleted one by one (what it does while the slots cannot move on, and all versions before the
 * slots did). The same number of 1 KB messages each way, sent by the sending application at 32 senders and numbered,
 * then removed by that application's retention through its pool and PgBouncer; then the VACUUM that the removal leaves
 * to autovacuum (switched off on the slot meanwhile, so that it runs here, measured). Each removal and each VACUUM
 * starts after a CHECKPOINT.
 */
final class RetentionScenario {

    static final String CHANNEL = "bench-retention";

    /** One way: what the removal and the VACUUM after it spent, and the dead rows it left. */
    record Way(String name, long messages, double seconds, Spent spent, long deadRows, double vacuumSeconds,
            Spent vacuum) {
    }

    record Result(Disk disk, List<Way> ways) {
    }

    private final Plan plan;

    RetentionScenario(Plan plan) {
        this.plan = plan;
    }

    Result run(Disk disk, AppInstance sender, AgroalDataSource pooled) throws Exception {
        long count = plan.quick() ? 4_000 : 20_000;
        StorageScenario storage = new StorageScenario(plan);
        // From an empty slot: everything numbered so far goes, and the senders move on.
        slots(sender, "PT0S", "PT0S");
        List<Way> ways = new ArrayList<>();

        long truncated = storage.bus(sender, pooled, 32, count).messages();
        int written = activeSlot(pooled);
        // The senders move on; the slot they leave holds only these messages.
        slots(sender, "P1D", "PT0S");
        ways.add(measure("one TRUNCATE of the slot", truncated, written, pooled,
                () -> Http.post(sender.url() + "/bench/retention/slots?age=PT0S&period=P1D", JsonNode.class)
                        .get("truncated").asInt() > 0));

        long deleted = storage.bus(sender, pooled, 32, count).messages();
        int active = activeSlot(pooled);
        ways.add(measure("rows one by one (DELETE, batches of 10,000)", deleted, active, pooled,
                () -> Http.post(sender.url() + "/bench/retention/rows?age=PT0S", Integer.class) >= deleted));
        Progress.log("retention, %s: %s", disk.label, ways);
        return new Result(disk, ways);
    }

    interface Removal {
        boolean run() throws Exception;
    }

    private Way measure(String name, long messages, int slot, AgroalDataSource pooled, Removal removal)
            throws Exception {
        List<String> leaves = List.of("imdispatcher_bus_" + slot, "imdispatcher_bus_positions_" + slot);
        for (String leaf : leaves) {
            StorageScenario.execute(pooled, "ALTER TABLE " + leaf + " SET (autovacuum_enabled = false)");
        }
        try {
            StorageScenario.execute(pooled, "CHECKPOINT");
            Spent.Mark mark = Spent.Mark.now(pooled);
            long start = System.nanoTime();
            if (!removal.run()) {
                throw new IllegalStateException(name + " did not remove the " + messages + " messages");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Spent spent = mark.until(pooled);
            // PostgreSQL's statistics reach the views within a second of the transaction's end.
            Thread.sleep(1_500);
            long dead = 0;
            for (String leaf : leaves) {
                dead += single(pooled, "SELECT coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = '"
                        + leaf + "'), 0)");
            }
            StorageScenario.execute(pooled, "CHECKPOINT");
            Spent.Mark beforeVacuum = Spent.Mark.now(pooled);
            long vacuumStart = System.nanoTime();
            StorageScenario.execute(pooled, "VACUUM " + String.join(", ", leaves));
            double vacuumSeconds = (System.nanoTime() - vacuumStart) / 1e9;
            return new Way(name, messages, seconds, spent, dead, vacuumSeconds, beforeVacuum.until(pooled));
        } finally {
            for (String leaf : leaves) {
                StorageScenario.execute(pooled, "ALTER TABLE " + leaf + " RESET (autovacuum_enabled)");
            }
        }
    }

    private static void slots(AppInstance sender, String age, String period) throws Exception {
        Http.post(sender.url() + "/bench/retention/slots?age=" + age + "&period=" + period, JsonNode.class);
    }

    private static int activeSlot(AgroalDataSource pooled) throws SQLException {
        return (int) single(pooled, "SELECT ((last_value >> 40) % 4)::int FROM imdispatcher_bus_id_seq");
    }

    private static long single(AgroalDataSource pooled, String sql) throws SQLException {
        return (long) GroupScenario.number(pooled, sql);
    }

    static void render(Report report, List<Result> results) {
        for (Result r : results) {
            List<List<String>> rows = new ArrayList<>();
            for (Way way : r.ways()) {
                rows.add(List.of(way.name(), Fmt.number(way.messages()), Fmt.ms(way.seconds() * 1000),
                        Fmt.number(way.spent().walBytes() / way.messages()), Fmt.number(way.spent().xids()),
                        Fmt.number(way.deadRows()), Fmt.ms(way.vacuumSeconds() * 1000),
                        Fmt.number(way.vacuum().walBytes() / way.messages())));
            }
            report.section("Retention: what removing messages costs the database — " + r.disk().label)
                    .paragraph(String.format("The same number of %s-byte messages each way, sent by the sending"
                            + " application at 32 senders and numbered, then removed by that application's retention"
                            + " through its pool and PgBouncer: the slot they were written in, emptied with one"
                            + " TRUNCATE once the senders had moved on (the bus's way), and rows deleted one by one (its"
                            + " way while the slots cannot move on, and the only one before the slots). Then the VACUUM"
                            + " each leaves to autovacuum (off on the slot meanwhile, so that it runs here). Each step"
                            + " starts after a CHECKPOINT; WAL: PostgreSQL's WAL position before and after; dead rows:"
                            + " `n_dead_tup` of the slot's two tables after the removal.",
                            Fmt.number(StorageScenario.SIZE)))
                    .table(List.of("removal", "messages", "time (ms)", "WAL B/msg", "xids", "dead rows left",
                            "VACUUM time (ms)", "VACUUM WAL B/msg"), rows);
        }
    }
}
