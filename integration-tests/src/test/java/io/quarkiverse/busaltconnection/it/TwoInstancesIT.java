package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;

/**
 * Two instances of the packaged application, each in its own JVM, on one PostgreSQL behind one PgBouncer: each
 * instance's listeners receive what the other sends, and the sequencer's role moves between them without a loss when
 * its holder's connection is killed, its JVM freezes, or it dies in the middle of a run.
 */
@QuarkusIntegrationTest
@QuarkusTestResource(value = SecondInstance.class, restrictToAnnotatedClass = true)
class TwoInstancesIT {

    @Test
    void eachInstanceReceivesWhatTheOtherSends() {
        String fromFirst = DeliveryTest.unique("from-first");
        given().contentType(ContentType.TEXT).body(fromFirst).post("/bus/send/greetings").then().statusCode(204);
        await().atMost(Duration.ofSeconds(20)).until(() -> received(SecondInstance.url()).stream()
                .anyMatch(entry -> entry.startsWith(fromFirst + "@")));

        String fromSecond = DeliveryTest.unique("from-second");
        given().baseUri(SecondInstance.url()).contentType(ContentType.TEXT).body(fromSecond)
                .post("/bus/send/greetings").then().statusCode(204);
        await().atMost(Duration.ofSeconds(20)).until(() -> DeliveryTest.received("greetings").stream()
                .anyMatch(entry -> entry.startsWith(fromSecond + "@")));
    }

    @Test
    void whenTheSequencersConnectionIsKilledAnotherInstanceTakesOverAndNothingIsLost() throws Exception {
        String run = DeliveryTest.unique("takeover");
        int count = 60;
        Set<Integer> holders = new HashSet<>();
        for (int i = 0; i < count; i++) {
            String base = i % 2 == 0 ? null : SecondInstance.url();
            var request = given().contentType(ContentType.TEXT).body(run + ":" + i);
            if (base != null) {
                request = request.baseUri(base);
            }
            request.post("/bus/send/" + Channels.SEQUENCE).then().statusCode(204);
            if (i % 15 == 7) {
                int holder = sequencerPid();
                holders.add(holder);
                assertTrue(BusEngineTest.terminate(holder), "could not kill the sequencer's backend " + holder);
                // Another instance (or the same one, reconnected) holds the lock again within a sweep or two.
                await().atMost(Duration.ofSeconds(20)).until(() -> sequencerPid() > 0 && sequencerPid() != holder);
            }
        }
        List<String> expected = IntStream.range(0, count).mapToObj(i -> run + ":" + i).toList();
        for (String base : List.of(RestAssured.baseURI + ":" + RestAssured.port, SecondInstance.url())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> mine(base, run).size() >= count);
            assertEquals(expected, mine(base, run), "lost, doubled or out of order at " + base);
        }
        assertTrue(holders.size() >= 2, "the sequencer's backend was killed only " + holders.size() + " time(s)");
    }

    /**
     * The sequencing instance's JVM is frozen (SIGSTOP: a GC pause that does not end) while sends go on through the
     * other instance: the other JVM ends the frozen sequencer's connection after the stall timeout (3 s in the demo)
     * and sequences itself; every message reaches both instances in order once the frozen one runs again.
     */
    @Test
    void aFrozenSequencerIsReplacedByTheOtherJvmWhileSendsGoOn() throws Exception {
        String first = RestAssured.baseURI + ":" + RestAssured.port;
        String second = SecondInstance.url();
        await().atMost(Duration.ofSeconds(20)).until(() -> sequencing(first) || sequencing(second));
        String frozen = sequencing(first) ? first : second;
        String other = frozen.equals(first) ? second : first;
        long frozenJvm = jvmPid(frozen);
        long otherJvm = jvmPid(other);
        assertNotEquals(frozenJvm, otherJvm, "both URLs reach one JVM");
        assertEquals(backendPid(frozen), sequencerPid(), "the lock holder is not the sequencing instance's listener");

        String run = DeliveryTest.unique("frozen");
        AtomicInteger next = new AtomicInteger();
        List<String> expected = new java.util.concurrent.CopyOnWriteArrayList<>();
        AppProcess.signal(frozenJvm, "STOP");
        try {
            // Sends go on through the other instance while it takes over: the lock's holder is then the other JVM's
            // own listening connection, not a new backend of the frozen one. In transactions, so that they wait for
            // a sequencer (alone, a send numbers its own message while nothing else waits, frozen sequencer or not).
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                String payload = run + ":" + next.getAndIncrement();
                send(other, "/bus/send-in-transaction/", payload);
                // That endpoint sends two messages.
                expected.add(payload + "-1");
                expected.add(payload + "-2");
                return sequencing(other) && sequencerPid() == backendPid(other);
            });
        } finally {
            AppProcess.signal(frozenJvm, "CONT");
        }
        for (int i = 0; i < 10; i++) {
            String payload = run + ":" + next.getAndIncrement();
            send(i % 2 == 0 ? first : second, "/bus/send/", payload);
            expected.add(payload);
        }
        for (String base : List.of(first, second)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> mine(base, run).size() >= expected.size());
            assertEquals(expected, mine(base, run), "lost, doubled or out of order at " + base);
        }
    }

    /**
     * The sequencer's connection is killed while it numbers a large batch (a run of 10,000 rows): the run rolls back,
     * the next holder numbers the rows again, and positions stay gap-free; both instances deliver every message once,
     * in order.
     */
    @Test
    void aSequencerKilledInTheMiddleOfARunLosesNothing() throws Exception {
        String run = DeliveryTest.unique("mid-run");
        int count = 12_000;
        long before;
        try (Connection connection = DurableBusTest.direct()) {
            before = head(connection);
            // Rows as Bus.send writes them, in one transaction, so that the sequencer numbers them in full runs.
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO imdispatcher_bus (channel,"
                    + " payload) SELECT ?, ? || g FROM generate_series(0, ? - 1) AS g ORDER BY g")) {
                insert.setString(1, Channels.SEQUENCE);
                insert.setString(2, run + ":");
                insert.setInt(3, count);
                insert.executeUpdate();
            }
            connection.commit();
            connection.setAutoCommit(true);
            int killed = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            try (PreparedStatement running = connection.prepareStatement("SELECT pg_terminate_backend(pid) FROM"
                    + " pg_stat_activity WHERE state = 'active' AND query LIKE 'WITH s AS (SELECT epoch, last_position%'")) {
                while (killed == 0 && System.nanoTime() < deadline) {
                    try (ResultSet result = running.executeQuery()) {
                        while (result.next()) {
                            killed += result.getBoolean(1) ? 1 : 0;
                        }
                    }
                }
            }
            assertTrue(killed > 0, "no numbering run was caught in progress");
            await().atMost(Duration.ofSeconds(60)).until(() -> unnumbered(connection, run) == 0);
            try (PreparedStatement positions = connection.prepareStatement("SELECT count(*), count(DISTINCT position),"
                    + " min(position), max(position) FROM imdispatcher_bus_positions WHERE position > ?")) {
                positions.setLong(1, before);
                try (ResultSet result = positions.executeQuery()) {
                    result.next();
                    assertEquals(result.getLong(1), result.getLong(2), "a position was handed out twice");
                    assertEquals(result.getLong(1), result.getLong(4) - result.getLong(3) + 1, "a gap in positions");
                    assertEquals(before + 1, result.getLong(3), "positions do not follow the head before the run");
                }
            }
        }
        List<String> expected = IntStream.range(0, count).mapToObj(i -> run + ":" + i).toList();
        for (String base : List.of(RestAssured.baseURI + ":" + RestAssured.port, SecondInstance.url())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> mine(base, run).size() >= count);
            assertEquals(expected, mine(base, run), "lost, doubled or out of order at " + base);
        }
    }

    private static long head(Connection connection) throws Exception {
        try (PreparedStatement head = connection.prepareStatement("SELECT coalesce(max(position), 0) FROM"
                + " imdispatcher_bus_positions");
                ResultSet result = head.executeQuery()) {
            result.next();
            return result.getLong(1);
        }
    }

    private static long unnumbered(Connection connection, String run) throws Exception {
        try (PreparedStatement count = connection.prepareStatement("SELECT count(*) FROM imdispatcher_bus b WHERE "
                + BusRows.UNNUMBERED + " AND payload LIKE ?")) {
            count.setString(1, run + ":%");
            try (ResultSet result = count.executeQuery()) {
                result.next();
                return result.getLong(1);
            }
        }
    }

    private static Map<String, Object> listener(String base) {
        return given().baseUri(base).get("/bus/listener").then().statusCode(200).extract().jsonPath().getMap("$");
    }

    private static boolean sequencing(String base) {
        return Boolean.TRUE.equals(listener(base).get("sequencing"));
    }

    private static int backendPid(String base) {
        return ((Number) listener(base).get("backendPid")).intValue();
    }

    private static long jvmPid(String base) {
        return ((Number) listener(base).get("jvmPid")).longValue();
    }

    private static void send(String base, String path, String payload) {
        given().baseUri(base).contentType(ContentType.TEXT).body(payload).post(path + Channels.SEQUENCE)
                .then().statusCode(204);
    }

    /** The backend holding the sequencer's advisory lock (pg_try_advisory_lock(hashtext(table), 1)), or 0. */
    private static int sequencerPid() throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement holder = connection.prepareStatement("SELECT pid FROM pg_locks WHERE"
                        + " locktype = 'advisory' AND granted AND objsubid = 2 AND objid = 1"
                        + " AND classid = (hashtext('imdispatcher_bus')::bigint & 4294967295)::oid")) {
            try (ResultSet result = holder.executeQuery()) {
                return result.next() ? result.getInt(1) : 0;
            }
        }
    }

    private static List<String> mine(String base, String run) {
        return given().baseUri(base).get("/bus/received/sequence").then().statusCode(200).extract().jsonPath()
                .getList("$", String.class).stream().filter(e -> e.startsWith(run + ":")).toList();
    }

    private static List<String> received(String baseUri) {
        return given().baseUri(baseUri).get("/bus/received/greetings").then().statusCode(200).extract().jsonPath()
                .getList("$", String.class);
    }
}
