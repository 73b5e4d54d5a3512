package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.test.junit.QuarkusTest;

/**
 * What one retention statement deletes, on a table of its own whose 30 messages were numbered 8 days ago (1 to 10),
 * 2 hours ago (11 to 20) and just now (21 to 30), alternately on channels a (odd) and b (even): retention of an hour,
 * groups held back up to 7 days, as the defaults. Messages 1 to 15 are in slot 0 of the tables, 16 to 30 in slot 1.
 */
@QuarkusTest
class RetentionStatementTest {

    private BusTable table;

    @BeforeEach
    void thirtyMessages() throws Exception {
        table = new BusTable("public", "retained_" + Long.toHexString(System.nanoTime()));
        OwnTables.create(table);
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            // 1 to 15 in slot 0, 16 to 30 in slot 1 (ids from 2^40 on): rows of both slots at the same addresses.
            statement.execute("INSERT INTO " + table.name() + " (channel, payload) SELECT CASE WHEN g % 2 = 1 THEN"
                    + " 'a' ELSE 'b' END, 'm' || g FROM generate_series(1, 15) g ORDER BY g");
            statement.execute("SELECT setval('" + table.name() + "_id_seq', 1099511627776)");
            statement.execute("INSERT INTO " + table.name() + " (channel, payload) SELECT CASE WHEN g % 2 = 1 THEN"
                    + " 'a' ELSE 'b' END, 'm' || g FROM generate_series(16, 30) g ORDER BY g");
            statement.execute("PREPARE number_all(int, bigint, text, bigint) AS " + table.sequence());
            statement.execute("EXECUTE number_all(100, 0, 'retained_head', 50)");
            statement.execute("DEALLOCATE number_all");
            statement.execute("UPDATE " + table.name() + "_positions SET numbered_at = now() - CASE WHEN position"
                    + " <= 10 THEN interval '8 days' WHEN position <= 20 THEN interval '2 hours' ELSE interval '0' END");
        }
    }

    @AfterEach
    void dropTables() throws Exception {
        OwnTables.drop(table);
    }

    @Test
    void withoutGroupsEverythingOlderThanTheRetentionGoes() throws Exception {
        assertEquals(20, deleteBatches());
        assertEquals(OwnTables.range(21, 30), OwnTables.remaining(table));
        assertEquals(List.of("a:19", "b:20"), OwnTables.purged(table));
    }

    @Test
    void aGroupHoldsItsChannelBackUntilRetentionMaxAndNotOthers() throws Exception {
        group("a", 5, "now()");
        assertEquals(10 + 5, deleteBatches());
        // Channel a: up to the group's position and what is older than 7 days (9); channel b: everything old.
        List<Integer> kept = new ArrayList<>(List.of(11, 13, 15, 17, 19));
        kept.addAll(OwnTables.range(21, 30));
        kept.sort(null);
        assertEquals(kept, OwnTables.remaining(table));
        assertEquals(List.of("a:9", "b:20"), OwnTables.purged(table));
    }

    @Test
    void aGroupThatNoInstanceRanForItsExpiryHoldsNothing() throws Exception {
        group("a", 0, "now() - interval '8 days'");
        group("b", 12, "now()");
        // Channel a: the group expired; channel b: older than 7 days, and up to the group's position.
        assertEquals(10 + 5 + 1, deleteBatches());
        List<Integer> kept = new ArrayList<>(List.of(14, 16, 18, 20));
        kept.addAll(OwnTables.range(21, 30));
        kept.sort(null);
        assertEquals(kept, OwnTables.remaining(table));
        assertEquals(List.of("a:19", "b:12"), OwnTables.purged(table));
    }

    private void group(String channel, long position, String updatedAt) throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO " + table.name() + "_groups (group_name, channel, position, epoch,"
                    + " updated_at) VALUES ('g', '" + channel + "', " + position + ", 1, " + updatedAt + ")");
        }
    }

    /** Runs the statement in batches of 4 until one deletes fewer; how many it deleted. */
    private int deleteBatches() throws Exception {
        int total = 0;
        try (Connection connection = DurableBusTest.direct();
                var delete = connection.prepareStatement(table.deleteOlderThan())) {
            delete.setDouble(1, 3600);
            delete.setDouble(2, Duration.ofDays(7).toSeconds());
            delete.setArray(3, connection.createArrayOf("text", new String[0]));
            delete.setArray(4, connection.createArrayOf("bigint", new Long[0]));
            delete.setLong(5, Duration.ofDays(7).toSeconds());
            delete.setInt(6, 4);
            int deleted;
            do {
                try (ResultSet count = delete.executeQuery()) {
                    count.next();
                    deleted = count.getInt(1);
                }
                total += deleted;
            } while (deleted == 4);
        }
        return total;
    }
}
