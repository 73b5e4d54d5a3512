package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalPropertiesReader;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkiverse.busaltconnection.runtime.store.BusRetention;
import io.quarkiverse.busaltconnection.runtime.store.BusSlots;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.RetentionLimits;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Retention by whole slots, on a table of its own, through the application's pool and PgBouncer: the senders move on to
 * the next slot once theirs was first numbered a rotation period ago, and a slot left behind is emptied with one
 * TRUNCATE once retention (an hour here) keeps nothing of it, without losing a message retention keeps, one still to
 * be numbered, or one a transaction has not committed yet, and with each channel losing a prefix of its positions.
 */
@QuarkusTest
class SlotRetentionTest {

    private static final RetentionLimits AN_HOUR = new RetentionLimits(Duration.ofHours(1), Duration.ofDays(7),
            new String[0], new Long[0], Duration.ofDays(7).toSeconds());
    private static final Duration PERIOD = Duration.ofMinutes(1);

    @Inject
    AgroalDataSource dataSource;

    @Inject
    BusRetention retention;

    private BusTable table;
    private BusSlots slots;

    @BeforeEach
    void ownTable() throws Exception {
        table = new BusTable("public", "slotted_" + Long.toHexString(System.nanoTime()));
        OwnTables.create(table);
        slots = new BusSlots(dataSource, table);
    }

    @AfterEach
    void dropTables() throws Exception {
        OwnTables.drop(table);
    }

    @Test
    void theSendersMoveOnAndTheSlotLeftBehindIsEmptiedWhole() throws Exception {
        send("a", 1, 10);
        number();
        age("2 hours");
        BusSlots.Pass first = slots.maintain(AN_HOUR, PERIOD, true);
        assertEquals(new BusSlots.Pass(0, true, false), first, "slot 0 was first numbered two hours ago");
        assertEquals(1, activeSlot());

        send("a", 11, 15);
        number();
        assertTrue(relationSize(0) > 0);
        BusSlots.Pass second = slots.maintain(AN_HOUR, PERIOD, true);
        assertEquals(new BusSlots.Pass(1, false, false), second, "slot 1 was numbered just now");
        assertEquals(0, relationSize(0), "slot 0 was not truncated (a DELETE leaves its pages)");
        assertEquals(OwnTables.range(11, 15), OwnTables.remaining(table));
        assertEquals(List.of("a:10"), OwnTables.purged(table));
    }

    @Test
    void aSlotWithAMessageRetentionKeepsStays() throws Exception {
        send("a", 1, 10);
        number();
        age("2 hours");
        slots.maintain(AN_HOUR, PERIOD, true);
        send("b", 11, 12);
        number();
        // The last message of slot 0 on channel a is young again.
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("UPDATE " + table.name() + "_positions SET numbered_at = now() WHERE position = 10");
        }
        assertEquals(0, slots.maintain(AN_HOUR, PERIOD, true).truncated());
        assertEquals(OwnTables.range(1, 12), OwnTables.remaining(table));
        assertEquals(List.of(), OwnTables.purged(table));
    }

    @Test
    void aTransactionThatCommitsAfterTheRotationKeepsItsMessageAndItsChannelLosesAPrefix() throws Exception {
        send("a", 1, 4);
        number();
        age("2 hours");
        try (Connection late = DurableBusTest.direct()) {
            late.setAutoCommit(false);
            try (Statement statement = late.createStatement()) {
                // Its id is drawn now, in slot 0; it commits after the rotation.
                statement.execute("INSERT INTO " + table.name() + " (channel, payload) VALUES ('a', 'late')");
            }
            assertTrue(slots.maintain(AN_HOUR, PERIOD, true).rotated());
            send("a", 5, 7);
            number();
            age("2 hours");
            // Slot 0 has a row its transaction has not committed: it cannot be locked, so it is left alone.
            assertEquals(0, slots.maintain(AN_HOUR, PERIOD, true).truncated());
            late.commit();
        }
        // Committed, not yet numbered: still left alone.
        assertEquals(0, slots.maintain(AN_HOUR, PERIOD, true).truncated());
        assertEquals(8, single("SELECT count(*) FROM " + table.name()));
        number();
        // The late message was numbered last (8), after slot 1's messages 5 to 7 of the same channel.
        assertEquals(List.of("a:8@0"), lastOf("a"));
        assertEquals(0, slots.maintain(AN_HOUR, PERIOD, true).truncated(), "message 8 was numbered just now");
        age("2 hours");
        assertEquals(1, slots.maintain(AN_HOUR, PERIOD, true).truncated());
        // Emptying slot 0 took channel a up to 8, so slot 1's 5 to 7 went too: a prefix.
        assertEquals(List.of(), OwnTables.remaining(table));
        assertEquals(List.of("a:8"), OwnTables.purged(table));
    }

    @Test
    void theSendersWaitWhileTheNextSlotHoldsMessagesAndRetentionThenDeletesRows() throws Exception {
        send("a", 1, 3);
        number();
        age("2 hours");
        slots.maintain(AN_HOUR, PERIOD, true);
        send("a", 4, 6);
        number();
        age("2 hours");
        // A group holds channel a at 1: slot 0 stays; the senders go on to slot 2, then 3.
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO " + table.name() + "_groups (group_name, channel, position, epoch)"
                    + " VALUES ('g', 'a', 1, 1)");
        }
        assertEquals(new BusSlots.Pass(0, true, false), slots.maintain(AN_HOUR, PERIOD, true));
        send("a", 7, 7);
        number();
        age("2 hours");
        assertEquals(new BusSlots.Pass(0, true, false), slots.maintain(AN_HOUR, PERIOD, true));
        send("a", 8, 8);
        number();
        age("2 hours");
        assertEquals(3, activeSlot());
        assertEquals(new BusSlots.Pass(0, false, true), slots.maintain(AN_HOUR, PERIOD, true),
                "the next slot, 0, still holds what the group has not passed");
        assertEquals(OwnTables.range(1, 8), OwnTables.remaining(table));
    }

    @Test
    void aUserWithoutTruncateIsToldWhyLosesNothingAndTheGrantsNamedAreEnough() throws Exception {
        send("a", 1, 10);
        number();
        age("2 hours");
        slots.maintain(AN_HOUR, PERIOD, true);
        send("a", 11, 15);
        number();
        String role = "slot_keeper_" + Long.toHexString(System.nanoTime());
        String password = Long.toHexString(Double.doubleToLongBits(Math.random()));
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'");
            // What an application's user has without TRUNCATE: its rows and the id sequence.
            statement.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role);
            statement.execute("GRANT SELECT, UPDATE ON " + table.name() + "_id_seq TO " + role);
        }
        try (AgroalDataSource restricted = AgroalDataSource.from(new AgroalPropertiesReader().readProperties(Map.of(
                AgroalPropertiesReader.JDBC_URL, Servers.postgresJdbcUrl(), AgroalPropertiesReader.PRINCIPAL, role,
                AgroalPropertiesReader.CREDENTIAL, password, AgroalPropertiesReader.MAX_SIZE, "1")))) {
            BusSlots asRole = new BusSlots(restricted, table);
            BusException refused = assertThrows(BusException.class, () -> asRole.maintain(AN_HOUR, PERIOD, true));
            assertTrue(refused.getMessage().contains("permission denied for table " + table.name() + "_"),
                    refused.getMessage());
            assertEquals(OwnTables.range(1, 15), OwnTables.remaining(table), "the failed step deleted nothing");
            assertEquals(List.of(), OwnTables.purged(table));
            assertEquals(1, activeSlot());

            // The grant BusRetention's warning names.
            try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
                statement.execute("GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO " + role);
            }
            assertEquals(1, asRole.maintain(AN_HOUR, PERIOD, true).truncated());
            assertEquals(OwnTables.range(11, 15), OwnTables.remaining(table));
            assertEquals(List.of("a:10"), OwnTables.purged(table));
        } finally {
            try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
                statement.execute("DROP OWNED BY " + role);
                statement.execute("DROP ROLE " + role);
            }
        }
    }

    @Test
    void theApplicationsTableIsLookedAfterThroughItsPoolWithThePeriodThatFitsItsRetention() {
        // Three periods hold the retention and two cleanup intervals; at least a minute.
        assertEquals(Duration.ofMinutes(23).plusSeconds(20),
                BusRetention.rotationPeriod(Duration.ofHours(1), Duration.ofMinutes(5)));
        assertEquals(Duration.ofMinutes(1), BusRetention.rotationPeriod(Duration.ofSeconds(10), Duration.ofSeconds(5)));
        // The application's slot 0 was first numbered minutes ago: nothing to empty, not yet time to move on.
        assertEquals(new BusSlots.Pass(0, false, false),
                retention.maintainSlots(Duration.ofHours(1), Duration.ofDays(1)));
    }

    private void send(String channel, int from, int to) throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO " + table.name() + " (channel, payload) SELECT '" + channel + "', 'm' || g"
                    + " FROM generate_series(" + from + ", " + to + ") g ORDER BY g");
        }
    }

    /** Numbers every committed message, as the sequencer does. */
    private void number() throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("PREPARE number_all(int, bigint, text, bigint) AS " + table.sequence());
            statement.execute("EXECUTE number_all(100, 0, '" + table.headChannel() + "', 50)");
        }
    }

    private void age(String age) throws Exception {
        try (Connection connection = DurableBusTest.direct(); Statement statement = connection.createStatement()) {
            statement.execute("UPDATE " + table.name() + "_positions SET numbered_at = now() - interval '" + age + "'");
        }
    }

    private int activeSlot() throws Exception {
        return (int) ((long) single("SELECT last_value FROM " + table.name() + "_id_seq") >>> 40) % BusTable.SLOTS;
    }

    private long relationSize(int slot) throws Exception {
        return single("SELECT pg_relation_size('" + table.name() + "_" + slot + "')");
    }

    private long single(String query) throws Exception {
        try (Connection connection = DurableBusTest.direct();
                Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery(query)) {
            row.next();
            return row.getLong(1);
        }
    }

    /** The last position of {@code channel}, with its slot, as "channel:position@slot". */
    private List<String> lastOf(String channel) throws Exception {
        List<String> last = new ArrayList<>();
        try (Connection connection = DurableBusTest.direct();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT channel || ':' || position || '@' || ((id /"
                        + " 1099511627776) % 4) FROM " + table.name() + "_positions WHERE channel = '" + channel
                        + "' ORDER BY position DESC LIMIT 1")) {
            while (rows.next()) {
                last.add(rows.getString(1));
            }
        }
        return last;
    }
}
