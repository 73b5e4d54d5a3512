package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.runtime.store.BusRetention;
import io.quarkiverse.busaltconnection.runtime.store.BusStartup;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

/**
 * The bus table: no NOTIFY limits on channels and payloads, nothing lost or doubled across a dropped listener
 * connection, expired messages deleted.
 */
@QuarkusTest
class DurableBusTest {

    @Inject
    Bus bus;

    @Inject
    BusStatus status;

    @Inject
    BusRetention retention;

    @Inject
    Vertx vertx;

    @Test
    void megabytePayloadOnA300CharacterChannelArrivesIntact() {
        assertEquals(300, Channels.WEIRD.length());
        StringBuilder payload = new StringBuilder();
        while (payload.length() < 1_048_576) {
            payload.append("ünïcødé \"quoted\" 'single'; -- ").append(payload.length()).append('\n');
        }
        String text = payload.toString();
        given().contentType(ContentType.JSON).body(Map.of("channel", Channels.WEIRD, "payload", text))
                .post("/bus/send").then().statusCode(204);
        String expected = "channel-intact:" + text.length() + ":" + Digests.sha256(text);
        await().atMost(Duration.ofSeconds(20)).until(() -> DeliveryTest.received("weird").contains(expected));
    }

    @Test
    void everyCommittedMessageExactlyOnceInOrderWhileTheListenerBackendIsKilled() throws Exception {
        int count = 300;
        String run = DeliveryTest.unique("seq");
        CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < count; i++) {
                if (i % 10 == 8) {
                    // Some transactions carry several messages.
                    int first = i;
                    QuarkusTransaction.requiringNew().run(() -> {
                        bus.send(Channels.SEQUENCE, run + ":" + first);
                        bus.send(Channels.SEQUENCE, run + ":" + (first + 1));
                    });
                    i++;
                } else {
                    bus.send(Channels.SEQUENCE, run + ":" + i);
                }
                pause(5);
            }
        });
        int kills = 0;
        List<String> sentWhileDown = new ArrayList<>();
        while (!sending.isDone()) {
            int pid = status.backendPid();
            if (pid > 0 && terminate(pid)) {
                kills++;
                // A message committed while the listener is away must come by replay, not by a notification.
                await().atMost(Duration.ofSeconds(10)).until(() -> !status.listening());
                String marker = run + ":down-" + kills;
                bus.send("greetings", marker);
                if (!status.listening()) {
                    sentWhileDown.add(marker);
                }
                // Let the listener come back before the next kill.
                await().atMost(Duration.ofSeconds(30)).until(() -> status.backendPid() > 0
                        && status.backendPid() != pid && status.listening());
            }
            pause(150);
        }
        sending.get();
        assertTrue(kills >= 2, "the listener backend was killed only " + kills + " time(s) while sending");
        assertTrue(!sentWhileDown.isEmpty(), "nothing was committed while the listener was down");
        for (String marker : sentWhileDown) {
            await().atMost(Duration.ofSeconds(30)).until(() -> DeliveryTest.received("greetings").stream()
                    .filter(entry -> entry.startsWith(marker + "@")).count() == 1);
        }

        List<String> expected = IntStream.range(0, count).mapToObj(i -> run + ":" + i).toList();
        for (String listener : List.of("sequence", "sequence-event-loop", "sequence-virtual-thread")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> mine(listener, run).size() >= count);
            assertEquals(expected, mine(listener, run), listener + " received messages lost, doubled or out of order");
        }
    }

    @Test
    void retentionDeletesOldRowsAndNothingNewer() throws SQLException {
        String run = DeliveryTest.unique("retention");
        bus.send("retention", run + ":old-1");
        bus.send("retention", run + ":old-2");
        bus.send("retention", run + ":new");
        awaitPositioned(run);
        try (Connection connection = direct()) {
            assertTrue(BusRows.backdateThrough(connection, "b.payload LIKE ?", run + ":old-%", "2 hours") >= 2);
        }
        int deleted = retention.deleteOlderThan(Duration.ofHours(1));
        assertTrue(deleted >= 2, "deleted " + deleted);
        assertEquals(List.of(run + ":new"), payloadsLike(run + ":%"));
    }

    @Test
    void retentionDeletesInBatchesUntilNothingIsLeft() throws Exception {
        String run = DeliveryTest.unique("batches");
        QuarkusTransaction.requiringNew().run(() -> IntStream.range(0, 1_000)
                .forEach(i -> bus.send("retention", run + ":" + i)));
        awaitPositioned(run);
        try (Connection connection = direct()) {
            assertTrue(BusRows.backdateThrough(connection, "b.payload LIKE ?", run + ":%", "2 hours") >= 1_000);
        }
        // Batches of 128: the loop must go round at least eight times.
        int deleted = retention.deleteOlderThan(Duration.ofHours(1), 128);
        assertTrue(deleted >= 1_000, "deleted " + deleted);
        assertEquals(List.of(), payloadsLike(run + ":%"));
    }

    @Test
    void schemaCreationWaitsForTheSchemaLock() throws Exception {
        BusTable table = new BusTable("public", "locked_" + Long.toHexString(System.nanoTime()));
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        try (Connection other = direct();
                PreparedStatement lock = other.prepareStatement(
                        "SELECT pg_advisory_lock(hashtext(?))");
                PreparedStatement unlock = other.prepareStatement(
                        "SELECT pg_advisory_unlock(hashtext(?))")) {
            // Another instance is in the middle of creating the schema.
            lock.setString(1, table.name());
            lock.execute();
            CompletableFuture<BusStartup.Head> start = CompletableFuture.supplyAsync(() -> BusStartup.prepare(vertx,
                    options, table, true, Duration.ofSeconds(30)));
            pause(1_500);
            assertTrue(!start.isDone(), "the schema was created while another instance held the schema lock");
            unlock.setString(1, table.name());
            unlock.execute();
            assertEquals(0L, start.get(30, TimeUnit.SECONDS).position());
        }
    }

    @Test
    void aTableWithoutTheTraceparentColumnGetsItOrIsRefusedSayingWhatIsMissing() throws Exception {
        BusTable table = new BusTable("public", "pretrace_" + Long.toHexString(System.nanoTime()));
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        BusStartup.prepare(vertx, options, table, true, Duration.ofSeconds(30));
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            // The schema of the version before traces, with a message in it.
            statement.execute("ALTER TABLE " + table.name() + " DROP COLUMN traceparent");
            statement.execute("INSERT INTO " + table.name() + " (channel, payload) VALUES ('c', 'old')");
            statement.execute("INSERT INTO " + table.name() + "_positions (position, channel, xid, id) SELECT 1,"
                    + " channel, xid, id FROM " + table.name());
            statement.execute("UPDATE " + table.name() + "_state SET last_position = 1, numbered = pg_current_snapshot()");
        }
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> BusStartup.prepare(vertx, options, table, false, Duration.ofSeconds(30)));
        assertTrue(refused.getMessage().contains("traceparent")
                && refused.getMessage().contains("schema-management is none"), refused.getMessage());

        assertEquals(1L, BusStartup.prepare(vertx, options, table, true, Duration.ofSeconds(30)).position());
        try (Connection connection = direct();
                var statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT payload, traceparent FROM " + table.name())) {
            assertTrue(rows.next());
            assertEquals("old", rows.getString(1), "the upgrade kept the message");
            assertEquals(null, rows.getString(2));
        }
    }

    @Test
    void aSchemaWithoutThisVersionsSendFunctionGetsItOrIsRefusedSayingSo() throws Exception {
        BusTable table = new BusTable("public", "presend_" + Long.toHexString(System.nanoTime()));
        String function = table.name() + "_send_one";
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        BusStartup.prepare(vertx, options, table, true, Duration.ofSeconds(30));
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            // The schema of the version before sends numbered their own messages.
            statement.execute("DROP FUNCTION " + function + "(text, text, text, text, text, text, bigint)");
        }
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> BusStartup.prepare(vertx, options, table, false, Duration.ofSeconds(30)));
        assertTrue(refused.getMessage().contains(function)
                && refused.getMessage().contains("schema-management is none"), refused.getMessage());
        BusStartup.prepare(vertx, options, table, true, Duration.ofSeconds(30));
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            // Another version's body (same signature) is replaced by this version's.
            statement.execute("CREATE OR REPLACE FUNCTION " + function + "(text, text, text, text, text, text, bigint)"
                    + " RETURNS TABLE (numbered_through bigint, awake_ms double precision) LANGUAGE plpgsql AS"
                    + " 'BEGIN RETURN; END'");
        }
        BusStartup.prepare(vertx, options, table, true, Duration.ofSeconds(30));
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            try (ResultSet sent = statement.executeQuery("SELECT numbered_through FROM " + function
                    + "('c', 'sent', NULL, NULL, 'w', 'h', 0)")) {
                assertTrue(sent.next());
                assertEquals(1L, sent.getLong(1), "a send with nothing else waiting numbers its own message");
            }
            // A sender whose instance read a higher head than the database's (an earlier copy of it) leaves the
            // message to the sequencer, whose run starts a new epoch.
            try (ResultSet sent = statement.executeQuery("SELECT numbered_through FROM " + function
                    + "('c', 'behind', NULL, NULL, 'w', 'h', 5)")) {
                assertTrue(sent.next());
                sent.getLong(1);
                assertTrue(sent.wasNull(), "a send numbered its message in a database behind its instance's head");
            }
        }
    }

    @Test
    void instancesStartingTogetherCreateTheSchemaOnce() throws Exception {
        // A fresh table, prepared by eight "instances" at the same moment.
        BusTable table = new BusTable("public", "concurrent_" + Long.toHexString(System.nanoTime()));
        List<CompletableFuture<BusStartup.Head>> starts = prepareTogether(table, 8);
        BusStartup.Head first = starts.get(0).get(60, TimeUnit.SECONDS);
        assertEquals(0L, first.position());
        for (CompletableFuture<BusStartup.Head> start : starts) {
            // One state row: every instance got the same epoch.
            assertEquals(first, start.get(60, TimeUnit.SECONDS));
        }
        try (Connection connection = direct();
                PreparedStatement count = connection.prepareStatement(
                        "SELECT count(*) FROM pg_class WHERE relname IN (?, ?, ?, ?, ?, ?)")) {
            count.setString(1, table.name());
            count.setString(2, table.name() + "_id_seq");
            count.setString(3, table.name() + "_state");
            count.setString(4, table.name() + "_purged");
            count.setString(5, table.name() + "_positions");
            count.setString(6, table.name() + "_groups");
            try (ResultSet result = count.executeQuery()) {
                result.next();
                assertEquals(6, result.getInt(1));
            }
        }
    }

    @Test
    void aTableOfThePreviousVersionIsUpgradedInPlaceByInstancesStartingTogether() throws Exception {
        String name = "upgrade_" + Long.toHexString(System.nanoTime());
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            // The schema the send-function version created, with three messages in it.
            statement.execute("CREATE SEQUENCE " + name + "_id_seq");
            statement.execute("CREATE TABLE " + name + " (id bigint PRIMARY KEY, channel text NOT NULL,"
                    + " payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
            statement.execute("CREATE INDEX " + name + "_created_at_idx ON " + name + " (created_at)");
            statement.execute("CREATE FUNCTION " + name + "_send(channels text[], payloads text[]) RETURNS void"
                    + " LANGUAGE sql AS 'SELECT NULL::void'");
            statement.execute("INSERT INTO " + name + " (id, channel, payload) SELECT nextval('" + name + "_id_seq'),"
                    + " 'old', 'old-' || g FROM generate_series(1, 3) g");
        }
        for (CompletableFuture<BusStartup.Head> start : prepareTogether(new BusTable("public", name), 4)) {
            // The old ids followed commit order: they became the positions, and the head is the last of them.
            assertEquals(3L, start.get(60, TimeUnit.SECONDS).position());
        }
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            try (ResultSet rows = statement.executeQuery("SELECT string_agg(b.payload || '@' || p.position, ','"
                    + " ORDER BY p.position), count(*) FILTER (WHERE b.xid IS NULL) FROM " + name + " b JOIN " + name
                    + "_positions p ON p.xid = b.xid AND p.id = b.id")) {
                rows.next();
                assertEquals("old-1@1,old-2@2,old-3@3", rows.getString(1));
                assertEquals(0, rows.getInt(2));
            }
            try (ResultSet function = statement.executeQuery("SELECT count(*) FROM pg_proc WHERE proname = '"
                    + name + "_send'")) {
                function.next();
                assertEquals(0, function.getInt(1), "the send function of the previous version is still there");
            }
            // New rows get ids from the old sequence and positions after the old ones.
            statement.execute("INSERT INTO " + name + " (channel, payload) VALUES ('new', 'new-1')");
            try (ResultSet id = statement.executeQuery("SELECT id FROM " + name + " WHERE payload = 'new-1'")) {
                id.next();
                assertEquals(4, id.getLong(1));
            }
        }
    }

    @Test
    void aTableWhoseSequencerRewroteRowsIsUpgradedKeepingEveryMessageAndPosition() throws Exception {
        String name = "rewritten_" + Long.toHexString(System.nanoTime());
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            // The schema of the version whose sequencer wrote positions into the message rows: two messages numbered,
            // two committed and waiting for the sequencer, in two transactions.
            statement.execute("CREATE SEQUENCE " + name + "_id_seq");
            statement.execute("CREATE TABLE " + name + " (id bigint PRIMARY KEY DEFAULT nextval('" + name + "_id_seq'),"
                    + " xid xid8 NOT NULL DEFAULT pg_current_xact_id(), channel text NOT NULL, payload text NOT NULL,"
                    + " created_at timestamptz NOT NULL DEFAULT now(), position bigint, traceparent text,"
                    + " message_key text)");
            statement.execute("CREATE UNIQUE INDEX " + name + "_position_idx ON " + name + " (position)"
                    + " WHERE position IS NOT NULL");
            statement.execute("CREATE INDEX " + name + "_unpositioned_idx ON " + name + " (xid, id)"
                    + " WHERE position IS NULL");
            statement.execute("CREATE TABLE " + name + "_state (singleton boolean PRIMARY KEY DEFAULT true,"
                    + " epoch bigint NOT NULL, last_position bigint NOT NULL, database_oid oid NOT NULL,"
                    + " xid_horizon xid8 NOT NULL, epoch_base bigint NOT NULL DEFAULT 0)");
            statement.execute("CREATE TABLE " + name + "_purged (channel text PRIMARY KEY, through bigint NOT NULL)");
            statement.execute("INSERT INTO " + name + " (channel, payload, position) VALUES ('a', 'numbered-1', 1),"
                    + " ('b', 'numbered-2', 2)");
            statement.execute("INSERT INTO " + name + "_state (epoch, last_position, database_oid, xid_horizon)"
                    + " SELECT 7, 2, oid, pg_current_xact_id() FROM pg_database WHERE datname = current_database()");
            statement.execute("INSERT INTO " + name + " (channel, payload) VALUES ('a', 'waiting-1')");
            statement.execute("INSERT INTO " + name + " (channel, payload) VALUES ('b', 'waiting-2')");
        }
        for (CompletableFuture<BusStartup.Head> start : prepareTogether(new BusTable("public", name), 4)) {
            BusStartup.Head head = start.get(60, TimeUnit.SECONDS);
            assertEquals(4L, head.position(), "the waiting messages were numbered after the others");
            assertEquals(7L, head.epoch(), "the upgrade changed the epoch: every cursor would have to reload");
        }
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            try (ResultSet rows = statement.executeQuery("SELECT string_agg(b.payload || '@' || p.position, ','"
                    + " ORDER BY p.position) FROM " + name + " b JOIN " + name + "_positions p ON p.xid = b.xid"
                    + " AND p.id = b.id")) {
                rows.next();
                assertEquals("numbered-1@1,numbered-2@2,waiting-1@3,waiting-2@4", rows.getString(1));
            }
            // The sequencer of the version before, still running somewhere, fails loudly instead of numbering into
            // a column nobody reads.
            SQLException refused = assertThrows(SQLException.class, () -> statement.execute("UPDATE " + name
                    + " SET position = 5 WHERE position IS NULL"));
            assertTrue(refused.getMessage().contains("position"), refused.getMessage());
            try (ResultSet indexes = statement.executeQuery("SELECT string_agg(indexname, ',' ORDER BY indexname)"
                    + " FROM pg_indexes WHERE tablename = '" + name + "_0'")) {
                indexes.next();
                assertEquals(name + "_xid_idx", indexes.getString(1), "the message table keeps one index");
            }
        }
    }

    /**
     * The plain tables of the version before slots, with messages numbered and waiting, become slot 0 of partitioned
     * tables of the same names: every message keeps its position, the head and the epoch stay, the indexes are slot
     * 0's, and the next message goes to slot 0 and is numbered after the others.
     */
    @Test
    void plainTablesOfTheVersionBeforeSlotsBecomeSlotZeroKeepingEveryMessage() throws Exception {
        String name = "unslotted_" + Long.toHexString(System.nanoTime());
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            statement.execute("CREATE SEQUENCE " + name + "_id_seq");
            statement.execute("CREATE TABLE " + name + " (id bigint NOT NULL DEFAULT nextval('" + name + "_id_seq'),"
                    + " xid xid8 NOT NULL DEFAULT pg_current_xact_id(), channel text NOT NULL, payload text NOT NULL,"
                    + " created_at timestamptz NOT NULL DEFAULT now(), traceparent text, message_key text)");
            statement.execute("CREATE INDEX " + name + "_xid_idx ON " + name + " (xid, id)");
            statement.execute("CREATE TABLE " + name + "_positions (position bigint PRIMARY KEY, channel text NOT"
                    + " NULL, xid xid8 NOT NULL, id bigint NOT NULL, numbered_at timestamptz NOT NULL DEFAULT now(),"
                    + " key_hash integer)");
            statement.execute("CREATE INDEX " + name + "_positions_channel_idx ON " + name + "_positions (channel,"
                    + " position)");
            statement.execute("CREATE TABLE " + name + "_state (singleton boolean PRIMARY KEY DEFAULT true CHECK"
                    + " (singleton), epoch bigint NOT NULL, last_position bigint NOT NULL, database_oid oid NOT NULL,"
                    + " xid_horizon xid8 NOT NULL, epoch_base bigint NOT NULL DEFAULT 0, numbered pg_snapshot NOT NULL,"
                    + " awake_until timestamptz)");
            statement.execute("CREATE TABLE " + name + "_purged (channel text PRIMARY KEY, through bigint NOT NULL)");
            statement.execute("CREATE TABLE " + name + "_groups (group_name text NOT NULL, channel text NOT NULL,"
                    + " partition_no integer NOT NULL DEFAULT 0, position bigint NOT NULL, epoch bigint NOT NULL,"
                    + " updated_at timestamptz NOT NULL DEFAULT now(), partitions integer NOT NULL DEFAULT 1,"
                    + " PRIMARY KEY (group_name, channel, partition_no))");
            // Two messages numbered (positions 1 and 2), in one transaction whose snapshot the state row keeps.
            statement.execute("INSERT INTO " + name + " (channel, payload) VALUES ('a', 'numbered-1'),"
                    + " ('b', 'numbered-2')");
            statement.execute("INSERT INTO " + name + "_positions (position, channel, xid, id, key_hash) SELECT"
                    + " row_number() OVER (ORDER BY id), channel, xid, id, -1 FROM " + name);
            statement.execute("INSERT INTO " + name + "_state (epoch, last_position, database_oid, xid_horizon,"
                    + " numbered) SELECT 7, 2, oid, pg_current_xact_id(), pg_current_snapshot() FROM pg_database"
                    + " WHERE datname = current_database()");
        }
        BusTable table = new BusTable("public", name);
        for (CompletableFuture<BusStartup.Head> start : prepareTogether(table, 4)) {
            BusStartup.Head head = start.get(60, TimeUnit.SECONDS);
            assertEquals(2L, head.position());
            assertEquals(7L, head.epoch(), "the upgrade changed the epoch: every cursor would have to reload");
        }
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            try (ResultSet kinds = statement.executeQuery("SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY"
                    + " relname) FROM pg_class WHERE relname IN ('" + name + "', '" + name + "_positions')")) {
                kinds.next();
                assertEquals(name + ":p," + name + "_positions:p", kinds.getString(1), "not partitioned");
            }
            statement.execute("INSERT INTO " + name + " (channel, payload) VALUES ('a', 'new-1')");
            statement.execute("PREPARE number_all(int, bigint, text, bigint) AS " + table.sequence());
            statement.execute("EXECUTE number_all(100, 0, 'unslotted_head', 50)");
            statement.execute("DEALLOCATE number_all");
            try (ResultSet rows = statement.executeQuery("SELECT string_agg(b.payload || '@' || p.position || ' in '"
                    + " || b.tableoid::regclass || '/' || p.tableoid::regclass, ',' ORDER BY p.position) FROM " + name
                    + " b JOIN " + name + "_positions p ON p.xid = b.xid AND p.id = b.id")) {
                rows.next();
                String slots = " in " + name + "_0/" + name + "_positions_0";
                assertEquals("numbered-1@1" + slots + ",numbered-2@2" + slots + ",new-1@3" + slots, rows.getString(1));
            }
            try (ResultSet indexes = statement.executeQuery("SELECT string_agg(indexname, ',' ORDER BY indexname)"
                    + " FROM pg_indexes WHERE tablename IN ('" + name + "_0', '" + name + "_positions_0')")) {
                indexes.next();
                assertEquals(name + "_positions_channel_idx," + name + "_positions_pkey," + name + "_xid_idx",
                        indexes.getString(1), "slot 0 has other indexes than the tables had");
            }
            try (ResultSet checks = statement.executeQuery("SELECT count(*) FROM pg_constraint WHERE conname LIKE '"
                    + name + "%slot%'")) {
                checks.next();
                assertEquals(0, checks.getInt(1), "the constraint that spared the attach its scan is left over");
            }
        }
    }

    @Test
    void instancesDeletingExpiredMessagesTogetherDeleteEachOnce() throws Exception {
        String run = DeliveryTest.unique("expired");
        QuarkusTransaction.requiringNew().run(() -> IntStream.range(0, 2_000)
                .forEach(i -> bus.send("retention", run + ":" + i)));
        awaitPositioned(run);
        try (Connection connection = direct()) {
            assertTrue(BusRows.backdateThrough(connection, "b.payload LIKE ?", run + ":%", "2 hours") >= 2_000);
        }
        List<CompletableFuture<Integer>> deletions = IntStream.range(0, 4)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> retention.deleteOlderThan(Duration.ofHours(1))))
                .toList();
        int total = 0;
        for (CompletableFuture<Integer> deletion : deletions) {
            total += deletion.get(60, TimeUnit.SECONDS);
        }
        assertTrue(total >= 2_000, "deleted " + total);
        assertEquals(List.of(), payloadsLike(run + ":%"));
    }

    @Test
    void badChannelsAndPayloadsAreRefusedBeforeTheDatabase() throws SQLException {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> bus.send("", "x"));
        assertTrue(empty.getMessage().contains("the channel name is empty"), empty.getMessage());
        String channel = DeliveryTest.unique("refused");
        IllegalArgumentException nul = assertThrows(IllegalArgumentException.class, () -> bus.send(channel, "a\0b"));
        assertTrue(nul.getMessage().contains("NUL character"), nul.getMessage());
        // Refused before the database: not a row of it, not even a failed write.
        try (Connection connection = direct();
                PreparedStatement count = connection.prepareStatement(
                        "SELECT count(*) FROM imdispatcher_bus WHERE channel = ?")) {
            count.setString(1, channel);
            try (ResultSet result = count.executeQuery()) {
                result.next();
                assertEquals(0, result.getInt(1));
            }
        }
    }

    /** {@code instances} instances starting at the same moment, each preparing {@code table}. */
    private List<CompletableFuture<BusStartup.Head>> prepareTogether(BusTable table, int instances) {
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        return IntStream.range(0, instances).mapToObj(i -> CompletableFuture.supplyAsync(() -> BusStartup.prepare(vertx,
                options, table, true, Duration.ofSeconds(30)))).toList();
    }

    /** Retention deletes only rows that have their position: wait for the sequencer. */
    static void awaitPositioned(String run) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (Connection connection = direct();
                    PreparedStatement unpositioned = connection.prepareStatement(
                            "SELECT count(*) FROM imdispatcher_bus b WHERE " + BusRows.UNNUMBERED
                                    + " AND payload LIKE ?")) {
                unpositioned.setString(1, run + ":%");
                try (ResultSet result = unpositioned.executeQuery()) {
                    result.next();
                    return result.getInt(1) == 0;
                }
            }
        });
    }

    private static List<String> mine(String listener, String run) {
        return DeliveryTest.received(listener).stream().filter(entry -> entry.startsWith(run + ":")).toList();
    }

    private static boolean terminate(int pid) throws SQLException {
        try (Connection connection = direct();
                PreparedStatement kill = connection.prepareStatement("SELECT pg_terminate_backend(?)")) {
            kill.setInt(1, pid);
            try (ResultSet result = kill.executeQuery()) {
                return result.next() && result.getBoolean(1);
            }
        }
    }

    private static List<String> payloadsLike(String pattern) throws SQLException {
        List<String> payloads = new ArrayList<>();
        try (Connection connection = direct();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT b.payload FROM imdispatcher_bus b JOIN imdispatcher_bus_positions p ON p.xid = b.xid"
                                + " AND p.id = b.id WHERE b.payload LIKE ? ORDER BY p.position")) {
            select.setString(1, pattern);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    payloads.add(rows.getString(1));
                }
            }
        }
        return payloads;
    }

    /**
     * Page reads of the bus so far, counted by PostgreSQL: scans of the two indexes of {@code _positions} every page
     * read uses (by channel and position, or by position), not of the one the sequencer and the readiness check use
     * for messages without a position. A backend reports its counts at most once a second.
     */
    static long pageReads() throws SQLException {
        try (Connection connection = direct();
                Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes"
                        + " WHERE indexrelname IN ('imdispatcher_bus_positions_channel_idx',"
                        + " 'imdispatcher_bus_positions_pkey')")) {
            row.next();
            return row.getLong(1);
        }
    }

    /**
     * {@link #pageReads()} once they stood still for two of PostgreSQL's reports (a backend reports at most once a
     * second): nothing else reads the bus, so what comes next can be counted.
     */
    static long quietPageReads() throws SQLException, InterruptedException {
        long last = pageReads();
        for (int i = 0; i < 20; i++) {
            Thread.sleep(1_200);
            long now = pageReads();
            if (now == last) {
                return now;
            }
            last = now;
        }
        throw new AssertionError("the bus is read all the time: " + last + " page reads and counting");
    }

    static Connection direct() throws SQLException {
        return DriverManager.getConnection(Servers.postgresJdbcUrl(), Servers.user(), Servers.password());
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
