package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.runtime.store.BusStartup;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

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
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        Vertx vertx = Vertx.vertx();
        try {
            BusStartup.prepare(vertx, options, TABLE, true, Duration.ofSeconds(60));
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get();
        }
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO " + TABLE.name() + " (channel, payload, message_key) SELECT 'c' || (g % 10),"
                    + " repeat('x', 100), 'k' || (g % 100) FROM generate_series(1, " + MESSAGES + ") g");
            statement.execute("SET jit = off");
            statement.execute("PREPARE number_all(int, bigint, text, bigint) AS " + TABLE.sequence());
            statement.execute("EXECUTE number_all(" + MESSAGES + ", 0, 'plans_head', 50)");
            statement.execute("DEALLOCATE number_all");
            // Half of them old enough for retention.
            statement.execute("UPDATE " + TABLE.name() + "_positions SET numbered_at = now() - interval '2 hours'"
                    + " WHERE position <= " + MESSAGES / 2);
            statement.execute("ANALYZE " + TABLE.name());
            statement.execute("ANALYZE " + TABLE.name() + "_positions");
            statement.execute("ANALYZE " + TABLE.name() + "_state");
            // Senders keep writing: the newest messages wait for their positions.
            statement.execute("INSERT INTO " + TABLE.name() + " (channel, payload) VALUES ('c1', 'new')");
        }
    }

    @AfterAll
    static void dropTables() throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            for (String suffix : List.of("", "_positions", "_state", "_purged", "_groups")) {
                statement.execute("DROP TABLE IF EXISTS " + TABLE.name() + suffix);
            }
        }
    }

    @Test
    void theNumberingRunReadsByIndex() throws Exception {
        assertIndexed("(int, bigint, text, bigint)", TABLE.sequence(), "(10000, 0, 'plans_head', 50)");
    }

    @Test
    void pagesReadByIndex() throws Exception {
        long after = MESSAGES - 50;
        assertIndexed("(text[], bigint, int, bigint)", TABLE.pageOnChannels(),
                "('{c1,c2}', " + after + ", 100, 1000000)");
        assertIndexed("(bigint, int, bigint)", TABLE.pageOfAll(), "(" + after + ", 100, 1000000)");
        assertIndexed("(text[], bigint, int, bigint, int, int)", TABLE.pageOfPartition(),
                "('{c1}', " + after + ", 100, 1000000, 4, 1)");
    }

    @Test
    void aRetentionBatchDeletesByIndex() throws Exception {
        assertIndexed("(float8, float8, text[], bigint[], bigint, int)", numbered(TABLE.deleteOlderThan()),
                "(3600, 604800, '{}', '{}', 604800, 1000)");
    }

    @Test
    void theSequencersProgressCheckReadsByIndex() throws Exception {
        assertIndexed("(text)", TABLE.sequencerProgress(), "('" + TABLE.lockKey() + "')");
    }

    /**
     * Runs the statement six times (in transactions rolled back), then explains the seventh: no sequential scan of the
     * message table or of its positions.
     */
    private static void assertIndexed(String types, String sql, String values) throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("SET jit = off");
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
            for (String table : List.of(TABLE.name(), TABLE.name() + "_positions")) {
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
