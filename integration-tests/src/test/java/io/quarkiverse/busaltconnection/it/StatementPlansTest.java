package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.test.junit.QuarkusTest;

/**
 * PostgreSQL plans a prepared statement with the values of its first five runs, then may keep one generic plan made
 * without them, not knowing how few rows a run touches: whichever plan the cache gives, the bus's statements must
 * find messages by index and never read a message table whole, or each run costs as much as the table is large (the
 * numbering run once hashed the whole message table at every run: 2.5 ms on a benchmark's table, 120 ms on 350,000
 * messages). Checked on tables of {@link #MESSAGES} numbered messages with their statistics: each statement runs six
 * times, then EXPLAIN shows the plan of the seventh.
 */
@QuarkusTest
class StatementPlansTest {

    static final int MESSAGES = 200_000;
    private static final BusTable TABLE = new BusTable("public", "plans_" + Long.toHexString(System.nanoTime()));

    @BeforeAll
    static void bigTables() throws Exception {
        OwnTables.create(TABLE);
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            // The last tenth in slot 1 (ids from 2^40 on), the rest in slot 0.
            String insert = "INSERT INTO " + TABLE.name() + " (channel, payload, message_key) SELECT 'c' || (g % 10),"
                    + " repeat('x', 100), CASE WHEN g % 50 <> 0 THEN 'k' || (g % 100) END FROM generate_series";
            statement.execute(insert + "(1, " + MESSAGES * 9 / 10 + ") g");
            statement.execute("SELECT setval('" + TABLE.name() + "_id_seq', 1099511627776)");
            statement.execute(insert + "(" + (MESSAGES * 9 / 10 + 1) + ", " + MESSAGES + ") g");
            statement.execute("SET jit = off");
            statement.execute("PREPARE number_all(int, bigint, text, bigint) AS " + TABLE.sequence());
            statement.execute("EXECUTE number_all(" + MESSAGES + ", 0, 'plans_head', 50)");
            statement.execute("DEALLOCATE number_all");
            // Half of them old enough for retention.
            statement.execute("UPDATE " + TABLE.name() + "_positions SET numbered_at = now() - interval '2 hours'"
                    + " WHERE position <= " + MESSAGES / 2);
            for (int slot = 0; slot < BusTable.SLOTS; slot++) {
                statement.execute("ANALYZE " + TABLE.name() + "_" + slot);
                statement.execute("ANALYZE " + TABLE.name() + "_positions_" + slot);
            }
            statement.execute("ANALYZE " + TABLE.name() + "_state");
            // Senders keep writing: the newest messages wait for their positions.
            statement.execute("INSERT INTO " + TABLE.name() + " (channel, payload) VALUES ('c1', 'new')");
        }
    }

    @AfterAll
    static void dropTables() throws Exception {
        OwnTables.drop(TABLE);
    }

    @Test
    void theNumberingRunReadsByIndex() throws Exception {
        assertIndexedOnListeningConnection("(int, bigint, text, bigint)", TABLE.sequence(), "(10000, 0, 'plans_head', 50)");
    }

    @Test
    void theSendFunctionsStatementReadsByIndex() throws Exception {
        // Its plan is made once per server connection and kept, as the listening connection's are.
        assertIndexed("(text, text, text, text, text, text, bigint)", TABLE.sendOneStatement(),
                "('c1', 'sent', NULL, NULL, 'plans_wake', 'plans_head', 0)", BusTable.SEND_ONE_SETTINGS, everySlot());
    }

    @Test
    void pagesReadByIndex() throws Exception {
        long after = MESSAGES - 50;
        assertIndexedOnListeningConnection("(text[], bigint, int, bigint)", TABLE.pageOnChannels(),
                "('{c1,c2}', " + after + ", 100, 1000000)");
        assertIndexedOnListeningConnection("(bigint, int, bigint)", TABLE.pageOfAll(), "(" + after + ", 100, 1000000)");
        assertIndexedOnListeningConnection("(text[], bigint, int, bigint, int, int)", TABLE.pageOfPartition(),
                "('{c1}', " + after + ", 100, 1000000, 4, 1)");
    }

    /**
     * A partition's page reads the message rows of that partition only: with four partitions, reading every message
     * of the channel to keep a quarter made each partition's reader pay for all four.
     */
    @Test
    void aPartitionsPageReadsOnlyItsOwnMessages() throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("SET jit = off");
            int partition;
            try (ResultSet row = statement.executeQuery("SELECT (hashtext('k1') & 2147483647) % 4")) {
                row.next();
                partition = row.getInt(1);
            }
            statement.execute("PREPARE partition_page(text[], bigint, int, bigint, int, int) AS "
                    + TABLE.pageOfPartition());
            String values = "('{c1}', 0, 100, 1000000, 4, " + partition + ")";
            for (int run = 0; run < 6; run++) {
                statement.execute("EXECUTE partition_page" + values);
            }
            List<String> plan = new ArrayList<>();
            try (ResultSet lines = statement.executeQuery("EXPLAIN (ANALYZE, COSTS OFF) EXECUTE partition_page"
                    + values)) {
                while (lines.next()) {
                    plan.add(lines.getString(1));
                }
            }
            statement.execute("DEALLOCATE partition_page");
            String text = String.join("\n", plan);
            // Each slot's reads: "on <table>_<slot> m_<n> (actual ... loops=...)".
            Matcher messages = Pattern.compile(" on " + TABLE.name() + "_\\d+ m_\\d+ .*loops=(\\d+)").matcher(text);
            long reads = 0;
            while (messages.find()) {
                reads += Long.parseLong(messages.group(1));
            }
            assertTrue(reads > 0, "no read of the message table in the plan:\n" + text);
            // The page holds 100 messages of the partition (key k1 alone has 2,000 on channel c1).
            assertTrue(reads <= 101, "the page read " + reads + " message rows for 100 of its partition:\n" + text);
        }
    }

    /**
     * The partition of a position numbered by an earlier version (no stored key hash) comes from its message's key:
     * every partition's page is the same either way, messages without a key in partition 0.
     */
    @Test
    void aPartitionsPageIsTheSameWithOrWithoutStoredKeyHashes() throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("SET jit = off");
            connection.setAutoCommit(false);
            statement.execute("PREPARE mixed_page(text[], bigint, int, bigint, int, int) AS " + TABLE.pageOfPartition());
            statement.execute("UPDATE " + TABLE.name() + "_positions SET key_hash = NULL WHERE position % 3 = 0");
            for (int partition = 0; partition < 4; partition++) {
                List<Long> page = positions(statement, "EXECUTE mixed_page('{c0}', 0, 300, 100000000, 4, "
                        + partition + ")", 4);
                List<Long> expected = positions(statement, "SELECT p.position FROM " + TABLE.name() + "_positions p"
                        + " JOIN " + TABLE.name() + " b ON b.xid = p.xid AND b.id = p.id WHERE p.channel = 'c0' AND"
                        + " CASE WHEN b.message_key IS NULL THEN 0 ELSE (hashtext(b.message_key) & 2147483647) % 4"
                        + " END = " + partition + " ORDER BY p.position LIMIT 300", 1);
                assertTrue(!expected.isEmpty(), "no message in partition " + partition);
                assertEquals(expected, page, "partition " + partition);
            }
            connection.rollback();
            statement.execute("DEALLOCATE mixed_page");
        }
    }

    private static List<Long> positions(Statement statement, String sql, int column) throws Exception {
        List<Long> positions = new ArrayList<>();
        try (ResultSet rows = statement.executeQuery(sql)) {
            while (rows.next()) {
                positions.add(rows.getLong(column));
            }
        }
        return positions;
    }

    @Test
    void aRetentionBatchDeletesByIndex() throws Exception {
        assertIndexed("(float8, float8, text[], bigint[], bigint, int)", numbered(TABLE.deleteOlderThan()),
                "(3600, 604800, '{}', '{}', 604800, 1000)");
    }

    /**
     * A retention batch finds the first position within the retention without reading the older rows: half of the
     * table is older, and a batch of one message reads a few dozen rows of the positions table, not 100,000.
     */
    @Test
    void aRetentionBatchFindsWhereToStopWithoutReadingTheOldRows() throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("SET jit = off");
            statement.execute("PREPARE one_batch(float8, float8, text[], bigint[], bigint, int) AS "
                    + numbered(TABLE.deleteOlderThan()));
            connection.setAutoCommit(false);
            long deleted;
            try (ResultSet row = statement.executeQuery("EXECUTE one_batch(3600, 604800, '{}', '{}', 604800, 1)")) {
                row.next();
                deleted = row.getLong(1);
            }
            long read = positionRowsRead(statement);
            connection.rollback();
            statement.execute("DEALLOCATE one_batch");
            assertEquals(1, deleted, "the batch deleted " + deleted + " messages");
            assertTrue(read < 1_000, "a batch of one message read " + read + " rows of the positions table");
        }
    }

    /**
     * Messages that groups hold back at the bottom of the table are not read by every batch on its way to those it may
     * delete: here groups hold back every channel of the first 90,000 messages, and the next 10,000 (older than the
     * retention too) are on a channel no group reads.
     */
    @Test
    void aRetentionBatchStepsOverNoMessagesThatGroupsHoldBack() throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("SET jit = off");
            statement.execute("PREPARE held_batch(float8, float8, text[], bigint[], bigint, int) AS "
                    + numbered(TABLE.deleteOlderThan()));
            connection.setAutoCommit(false);
            statement.execute("UPDATE " + TABLE.name() + "_positions SET channel = 'unread' WHERE position > 90000"
                    + " AND position <= 100000");
            statement.execute("INSERT INTO " + TABLE.name() + "_groups (group_name, channel, position, epoch) SELECT"
                    + " 'slow', 'c' || g, 0, 1 FROM generate_series(0, 9) g");
            long before = positionRowsRead(statement);
            long deleted;
            try (ResultSet row = statement.executeQuery("EXECUTE held_batch(3600, 604800, '{}', '{}', 604800, 1)")) {
                row.next();
                deleted = row.getLong(1);
            }
            long read = positionRowsRead(statement) - before;
            long held;
            try (ResultSet row = statement.executeQuery("SELECT count(*) FROM " + TABLE.name() + "_positions WHERE"
                    + " position <= 90000")) {
                row.next();
                held = row.getLong(1);
            }
            connection.rollback();
            statement.execute("DEALLOCATE held_batch");
            assertEquals(1, deleted, "the batch deleted " + deleted + " messages");
            assertEquals(90_000, held, "messages held back by the groups were deleted");
            assertTrue(read < 1_000, "a batch of one message read " + read + " rows of the positions table");
        }
    }

    /** Rows of the positions table read so far in this transaction. */
    private static long positionRowsRead(Statement statement) throws Exception {
        try (ResultSet row = statement.executeQuery("SELECT sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch,"
                + " 0)) FROM pg_stat_xact_user_tables WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent"
                + " = '" + TABLE.name() + "_positions'::regclass)")) {
            row.next();
            return row.getLong(1);
        }
    }

    @Test
    void theSequencersProgressCheckReadsByIndex() throws Exception {
        assertIndexedOnListeningConnection("(text)", TABLE.sequencerProgress(), "('" + TABLE.lockKey() + "')");
    }

    /**
     * Retention empties a slot with TRUNCATE, which leaves it without statistics, and PostgreSQL may plan the numbering
     * run while the senders' slot is empty and keep that plan while they fill it, until autovacuum analyzes the slot
     * (a minute or so; never, with autovacuum off). Whichever plan it keeps must still read the grown slot by index.
     */
    @Test
    void aPlanMadeWhileTheSendersSlotWasEmptyReadsItByIndexOnceItGrew() throws Exception {
        BusTable table = new BusTable("public", "regrown_" + Long.toHexString(System.nanoTime()));
        OwnTables.create(table);
        long after = 2L * MESSAGES - 50;
        // The numbering run and the page reads.
        List<Prepared> statements = List.of(
                new Prepared("number_all", "(int, bigint, text, bigint)", table.sequence(),
                        "(10000, 0, 'regrown_head', 50)"),
                new Prepared("on_channels", "(text[], bigint, int, bigint)", table.pageOnChannels(),
                        "('{c1,c2}', " + after + ", 100, 1000000)"),
                new Prepared("of_all", "(bigint, int, bigint)", table.pageOfAll(), "(" + after + ", 100, 1000000)"),
                new Prepared("of_partition", "(text[], bigint, int, bigint, int, int)", table.pageOfPartition(),
                        "('{c1}', " + after + ", 100, 1000000, 4, 1)"));
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            String insert = "INSERT INTO " + table.name() + " (channel, payload) SELECT 'c' || (g % 10),"
                    + " repeat('x', 100) FROM generate_series";
            // Slot 0 full, as the slot the senders leave is.
            statement.execute(insert + "(1, " + MESSAGES + ") g");
            statement.execute("SET jit = off");
            for (Prepared checked : statements) {
                statement.execute("PREPARE " + checked.name() + checked.types() + " AS " + checked.sql());
            }
            statement.execute("EXECUTE number_all(" + MESSAGES + ", 0, 'regrown_head', 50)");
            for (int slot = 0; slot < BusTable.SLOTS; slot++) {
                statement.execute("ANALYZE " + table.name() + "_" + slot);
                statement.execute("ANALYZE " + table.name() + "_positions_" + slot);
            }
            // Slot 1 as a TRUNCATE leaves it, and out of autovacuum's reach for the test.
            statement.execute("TRUNCATE " + table.name() + "_1, " + table.name() + "_positions_1");
            statement.execute("ALTER TABLE " + table.name() + "_1 SET (autovacuum_enabled = false)");
            statement.execute("ALTER TABLE " + table.name() + "_positions_1 SET (autovacuum_enabled = false)");
            statement.execute("SELECT setval('" + table.name() + "_id_seq', 1099511627776)");
            // The worst case: the plans made now, on the empty slot, kept whatever comes.
            statement.execute("SET plan_cache_mode = force_generic_plan");
            connection.setAutoCommit(false);
            for (int run = 0; run < 6; run++) {
                statement.execute(insert + "(1, 3) g");
                for (Prepared checked : statements) {
                    statement.execute("EXECUTE " + checked.name() + checked.values());
                }
                connection.commit();
            }
            connection.setAutoCommit(true);
            statement.execute(insert + "(1, " + MESSAGES + ") g");
            statement.execute("EXECUTE number_all(" + MESSAGES + ", 0, 'regrown_head', 50)");
            statement.execute(insert + "(1, 3) g");
            for (Prepared checked : statements) {
                List<String> plan = new ArrayList<>();
                try (ResultSet lines = statement.executeQuery("EXPLAIN EXECUTE " + checked.name() + checked.values())) {
                    while (lines.next()) {
                        plan.add(lines.getString(1));
                    }
                }
                String text = String.join("\n", plan);
                try (ResultSet generic = statement.executeQuery("SELECT generic_plans FROM pg_prepared_statements"
                        + " WHERE name = '" + checked.name() + "'")) {
                    generic.next();
                    assertTrue(generic.getLong(1) >= 7, checked.name() + ": " + generic.getLong(1) + " generic runs");
                }
                for (String slot : List.of(table.name() + "_1", table.name() + "_positions_1")) {
                    assertTrue(!text.contains("Seq Scan on " + slot + " "),
                            checked.name() + " reads " + slot + " whole:\n" + text);
                }
            }
        } finally {
            OwnTables.drop(table);
        }
    }

    /** A statement to PREPARE as {@code name}, with its parameters' types and the values to EXECUTE it with. */
    private record Prepared(String name, String types, String sql, String values) {
    }

    /**
     * For a statement of the listening connection, whose plans stay cached: in its session's settings, and no slot is
     * read whole, not even an empty one (slots 2 and 3 here are empty, and analyzed so: a plan that reads them whole
     * would go on doing so once they filled).
     */
    private static void assertIndexedOnListeningConnection(String types, String sql, String values) throws Exception {
        assertIndexed(types, sql, values, ListenerConnection.SESSION_SETTINGS, everySlot());
    }

    /** Every slot of both tables. */
    private static List<String> everySlot() {
        List<String> slots = new ArrayList<>();
        for (int slot = 0; slot < BusTable.SLOTS; slot++) {
            slots.add(TABLE.name() + "_" + slot);
            slots.add(TABLE.name() + "_positions_" + slot);
        }
        return slots;
    }

    /** For a statement through PgBouncer, planned at each run: the slots that hold messages are not read whole. */
    private static void assertIndexed(String types, String sql, String values) throws Exception {
        assertIndexed(types, sql, values, "SET jit = off", List.of(TABLE.name() + "_0", TABLE.name() + "_1",
                TABLE.name() + "_positions_0", TABLE.name() + "_positions_1"));
    }

    /**
     * Runs the statement six times with {@code settings} (in transactions rolled back), then explains the seventh: no
     * sequential scan of {@code tables}.
     */
    private static void assertIndexed(String types, String sql, String values, String settings, List<String> tables)
            throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute(settings);
            statement.execute("PREPARE checked" + types + " AS " + sql);
            connection.setAutoCommit(false);
            for (int run = 0; run < 6; run++) {
                statement.execute("EXECUTE checked" + values);
                connection.rollback();
            }
            List<String> plan = new ArrayList<>();
            try (ResultSet lines = statement.executeQuery("EXPLAIN EXECUTE checked" + values)) {
                while (lines.next()) {
                    plan.add(lines.getString(1));
                }
            }
            connection.rollback();
            String text = String.join("\n", plan);
            for (String table : tables) {
                assertTrue(!text.contains("Seq Scan on " + table + " "), "the plan reads " + table + " whole:\n" + text);
            }
        }
    }

    /** JDBC's placeholders as PREPARE's. */
    private static String numbered(String jdbc) {
        StringBuilder sql = new StringBuilder();
        int parameter = 0;
        for (char c : jdbc.toCharArray()) {
            if (c == '?') {
                sql.append('$').append(++parameter);
            } else {
                sql.append(c);
            }
        }
        return sql.toString();
    }
}
