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
import java.time.Instant;
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
        try (Connection connection = direct();
                PreparedStatement backdate = connection.prepareStatement("UPDATE imdispatcher_bus"
                        + " SET created_at = now() - interval '2 hours' WHERE payload LIKE ?")) {
            backdate.setString(1, run + ":old-%");
            assertEquals(2, backdate.executeUpdate());
        }
        awaitPositioned(run);
        int deleted = retention.deleteOlderThan(Instant.now().minus(Duration.ofHours(1)));
        assertTrue(deleted >= 2, "deleted " + deleted);
        assertEquals(List.of(run + ":new"), payloadsLike(run + ":%"));
    }

    @Test
    void retentionDeletesInBatchesUntilNothingIsLeft() throws Exception {
        String run = DeliveryTest.unique("batches");
        QuarkusTransaction.requiringNew().run(() -> IntStream.range(0, 1_000)
                .forEach(i -> bus.send("retention", run + ":" + i)));
        try (Connection connection = direct();
                PreparedStatement backdate = connection.prepareStatement(
                        "UPDATE imdispatcher_bus SET created_at = now() - interval '2 hours' WHERE payload LIKE ?")) {
            backdate.setString(1, run + ":%");
            assertEquals(1_000, backdate.executeUpdate());
        }
        awaitPositioned(run);
        // Batches of 128: the loop must go round at least eight times.
        int deleted = retention.deleteOlderThan(Instant.now().minus(Duration.ofHours(1)), 128);
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
            statement.execute("INSERT INTO " + table.name() + " (channel, payload, position) VALUES ('c', 'old', 1)");
            statement.execute("UPDATE " + table.name() + "_state SET last_position = 1");
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
    void instancesStartingTogetherCreateTheSchemaOnce() throws Exception {
        // A fresh table, prepared by eight "instances" at the same moment.
        BusTable table = new BusTable("public", "concurrent_" + Long.toHexString(System.nanoTime()));
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        List<CompletableFuture<BusStartup.Head>> starts = IntStream.range(0, 8)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> BusStartup.prepare(vertx, options, table, true,
                        Duration.ofSeconds(30))))
                .toList();
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
            count.setString(5, table.name() + "_unpositioned_idx");
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
        BusTable table = new BusTable("public", name);
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        List<CompletableFuture<BusStartup.Head>> starts = IntStream.range(0, 4)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> BusStartup.prepare(vertx, options, table, true,
                        Duration.ofSeconds(30))))
                .toList();
        for (CompletableFuture<BusStartup.Head> start : starts) {
            // The old ids followed commit order: they became the positions, and the head is the last of them.
            assertEquals(3L, start.get(60, TimeUnit.SECONDS).position());
        }
        try (Connection connection = direct(); var statement = connection.createStatement()) {
            try (ResultSet rows = statement.executeQuery("SELECT string_agg(payload || '@' || position, ','"
                    + " ORDER BY position), count(*) FILTER (WHERE xid IS NULL) FROM " + name)) {
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
    void instancesDeletingExpiredMessagesTogetherDeleteEachOnce() throws Exception {
        String run = DeliveryTest.unique("expired");
        QuarkusTransaction.requiringNew().run(() -> IntStream.range(0, 2_000)
                .forEach(i -> bus.send("retention", run + ":" + i)));
        try (Connection connection = direct();
                PreparedStatement backdate = connection.prepareStatement(
                        "UPDATE imdispatcher_bus SET created_at = now() - interval '2 hours' WHERE payload LIKE ?")) {
            backdate.setString(1, run + ":%");
            assertEquals(2_000, backdate.executeUpdate());
        }
        awaitPositioned(run);
        Instant cutoff = Instant.now().minus(Duration.ofHours(1));
        List<CompletableFuture<Integer>> deletions = IntStream.range(0, 4)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> retention.deleteOlderThan(cutoff))).toList();
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

    /** Retention deletes only rows that have their position: wait for the sequencer. */
    static void awaitPositioned(String run) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (Connection connection = direct();
                    PreparedStatement unpositioned = connection.prepareStatement(
                            "SELECT count(*) FROM imdispatcher_bus WHERE position IS NULL AND payload LIKE ?")) {
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
                        "SELECT payload FROM imdispatcher_bus WHERE payload LIKE ? ORDER BY position")) {
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
     * Page reads of the bus so far, counted by PostgreSQL: scans of the two indexes every page read uses (by channel
     * and position, or by position), not of those the sequencer and the readiness check use for rows without a
     * position. A backend reports its counts at most once a second.
     */
    static long pageReads() throws SQLException {
        try (Connection connection = direct();
                Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes"
                        + " WHERE indexrelname IN ('imdispatcher_bus_channel_position_idx',"
                        + " 'imdispatcher_bus_position_idx')")) {
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
