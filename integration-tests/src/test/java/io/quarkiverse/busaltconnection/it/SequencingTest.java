package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.runtime.store.BusStartup;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * The sequencer's statement ({@link BusTable#sequence()}) on a table of its own, run back to back with small and
 * varying batches while senders commit transactions of one to five messages, some held open for a while, some rolled
 * back: every committed message gets exactly one position, positions have no gaps, a transaction's messages are
 * numbered together, and a transaction that committed before another began is numbered before it.
 */
@QuarkusTest
class SequencingTest {

    private static final int SENDERS = 6;

    @Inject
    Vertx vertx;

    /** A transaction the senders committed: its marker, when it began and when its commit returned. */
    private record Committed(String marker, long began, long committed) {
    }

    @Test
    void everyCommittedMessageGetsOnePositionInCommitOrderWithoutGaps() throws Exception {
        BusTable table = new BusTable("public", "sequencing_" + Long.toHexString(System.nanoTime()));
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        BusStartup.prepare(vertx, options, table, true, Duration.ofSeconds(30));
        // As on the bus's own direct connections.
        options.getProperties().put("jit", "off");
        PgConnection sequencer = PgConnection.connect(vertx, options).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        ConcurrentLinkedQueue<Committed> committed = new ConcurrentLinkedQueue<>();
        AtomicBoolean sending = new AtomicBoolean(true);
        ExecutorService senders = Executors.newFixedThreadPool(SENDERS);
        try {
            for (int s = 0; s < SENDERS; s++) {
                int sender = s;
                senders.submit(() -> send(table, sender, sending, committed));
            }
            long numbered = 0;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            while (System.nanoTime() < until) {
                numbered += run(sequencer, table, 1 + ThreadLocalRandom.current().nextInt(20));
            }
            sending.set(false);
            senders.shutdown();
            assertTrue(senders.awaitTermination(30, TimeUnit.SECONDS));
            long last;
            do {
                last = run(sequencer, table, 7);
                numbered += last;
            } while (last > 0);

            try (Connection connection = DurableBusTest.direct(); var statement = connection.createStatement()) {
                try (ResultSet counts = statement.executeQuery("SELECT (SELECT count(*) FROM " + table.name() + "),"
                        + " count(*), count(DISTINCT (xid, id)), min(position), max(position), (SELECT last_position"
                        + " FROM " + table.name() + "_state) FROM " + table.name() + "_positions")) {
                    counts.next();
                    long rows = counts.getLong(1);
                    assertTrue(rows > 500, "the senders committed only " + rows + " messages");
                    assertEquals(rows, counts.getLong(2), "committed messages and positions differ in number");
                    assertEquals(rows, counts.getLong(3), "a message got two positions");
                    assertEquals(1, counts.getLong(4));
                    assertEquals(rows, counts.getLong(5), "the positions have gaps");
                    assertEquals(rows, counts.getLong(6), "the head is not the last position");
                    assertEquals(rows, numbered, "the runs said they numbered another count");
                }
                try (ResultSet split = statement.executeQuery("SELECT count(*) FROM (SELECT xid FROM " + table.name()
                        + "_positions GROUP BY xid HAVING max(position) - min(position) + 1 <> count(*)) x")) {
                    split.next();
                    assertEquals(0, split.getInt(1), "a transaction's messages were numbered apart");
                }
                Map<String, Long> first = new HashMap<>();
                try (ResultSet positions = statement.executeQuery("SELECT split_part(b.payload, ':', 1),"
                        + " min(p.position) FROM " + table.name() + " b JOIN " + table.name() + "_positions p"
                        + " ON p.xid = b.xid AND p.id = b.id GROUP BY 1")) {
                    while (positions.next()) {
                        first.put(positions.getString(1), positions.getLong(2));
                    }
                }
                List<Committed> all = new ArrayList<>(committed);
                all.sort((a, b) -> Long.compare(a.committed(), b.committed()));
                int checked = 0;
                for (Committed before : all) {
                    for (Committed after : all) {
                        if (before.committed() < after.began()) {
                            checked++;
                            assertTrue(first.get(before.marker()) < first.get(after.marker()), before.marker()
                                    + " committed before " + after.marker() + " began, and was numbered after it");
                        }
                    }
                }
                assertTrue(checked > 1_000, "only " + checked + " ordered pairs");
            }
        } finally {
            senders.shutdownNow();
            sequencer.close();
        }
    }

    /**
     * A dump restored into another cluster carries the original's transaction ids, ahead of this cluster's: in the
     * rows, in {@code _positions}, and in the state's snapshot, which would take this cluster's new transactions for
     * ones it saw and never number them. The start finds the copy, starts a new epoch, numbers what waited (the
     * original's and this cluster's), and the sequencer goes on from this cluster's snapshot.
     */
    @Test
    void aCopyFromAnotherClusterStartsANewEpochAndLosesNoMessage() throws Exception {
        BusTable table = new BusTable("public", "copied_" + Long.toHexString(System.nanoTime()));
        PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(Servers.postgresPort())
                .setDatabase(Servers.database()).setUser(Servers.user()).setPassword(Servers.password());
        long epoch = BusStartup.prepare(vertx, options, table, true, Duration.ofSeconds(30)).epoch();
        options.getProperties().put("jit", "off");
        PgConnection sequencer = PgConnection.connect(vertx, options).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        String name = table.name();
        try (Connection connection = DurableBusTest.direct(); var statement = connection.createStatement()) {
            statement.execute("INSERT INTO " + name + " (channel, payload) VALUES ('c', 'numbered-1'), ('c', 'numbered-2')");
            assertEquals(2, run(sequencer, table, 100));
            // What the original cluster wrote: its transaction ids are a million past this cluster's.
            statement.execute("UPDATE " + name + " SET xid = (xid::text::bigint + 1000000)::text::xid8");
            statement.execute("UPDATE " + name + "_positions SET xid = (xid::text::bigint + 1000000)::text::xid8");
            statement.execute("UPDATE " + name + "_state SET xid_horizon = (xid_horizon::text::bigint + 1000000)::text"
                    + "::xid8, numbered = ((pg_snapshot_xmax(numbered)::text::bigint + 1000000) || ':'"
                    + " || (pg_snapshot_xmax(numbered)::text::bigint + 1000000) || ':')::pg_snapshot");
            // A message the original committed and had not numbered, and one sent here before any instance started.
            statement.execute("INSERT INTO " + name + " (xid, channel, payload) VALUES"
                    + " ((pg_current_xact_id()::text::bigint + 1000001)::text::xid8, 'c', 'waiting-original')");
            statement.execute("INSERT INTO " + name + " (channel, payload) VALUES ('c', 'waiting-here')");
        }
        try {
            BusStartup.Head head = BusStartup.prepare(vertx, options, table, true, Duration.ofSeconds(30));
            assertTrue(head.epoch() != epoch, "the copy kept the original's epoch");
            assertEquals(4L, head.position(), "the waiting messages were not numbered");
            try (Connection connection = DurableBusTest.direct(); var statement = connection.createStatement()) {
                statement.execute("INSERT INTO " + name + " (channel, payload) VALUES ('c', 'sent-after')");
                assertEquals(1, run(sequencer, table, 100));
                try (ResultSet rows = statement.executeQuery("SELECT string_agg(b.payload || '@' || p.position, ','"
                        + " ORDER BY p.position) FROM " + name + " b JOIN " + name + "_positions p ON p.xid = b.xid"
                        + " AND p.id = b.id")) {
                    rows.next();
                    assertEquals("numbered-1@1,numbered-2@2,waiting-original@3,waiting-here@4,sent-after@5",
                            rows.getString(1));
                }
            }
            assertEquals(0, run(sequencer, table, 100), "a message was numbered twice");
        } finally {
            sequencer.close();
        }
    }

    /** One run of the sequencer's statement numbering about {@code most} messages; how many it numbered. */
    private static long run(PgConnection sequencer, BusTable table, int most) throws Exception {
        Row row = sequencer.preparedQuery(table.sequence()).execute(Tuple.of(most, 0L, table.headChannel(), 50L))
                .toCompletionStage()
                .toCompletableFuture().get(30, TimeUnit.SECONDS).iterator().next();
        assertTrue(!row.getBoolean(4), "the run took the table for a copy or a history gone back");
        return row.getLong(1);
    }

    private static void send(BusTable table, int sender, AtomicBoolean sending, ConcurrentLinkedQueue<Committed> done) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO " + table.name()
                        + " (channel, payload) VALUES (?, ?)")) {
            connection.setAutoCommit(false);
            for (int n = 0; sending.get(); n++) {
                String marker = "s" + sender + "t" + n;
                long began = System.nanoTime();
                int messages = 1 + random.nextInt(5);
                for (int m = 0; m < messages; m++) {
                    insert.setString(1, "c" + random.nextInt(4));
                    insert.setString(2, marker + ":" + m);
                    insert.executeUpdate();
                    if (random.nextInt(10) == 0) {
                        // Held open while others commit and get numbered.
                        Thread.sleep(random.nextInt(150));
                    }
                }
                if (random.nextInt(8) == 0) {
                    connection.rollback();
                } else {
                    connection.commit();
                    done.add(new Committed(marker, began, System.nanoTime()));
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
