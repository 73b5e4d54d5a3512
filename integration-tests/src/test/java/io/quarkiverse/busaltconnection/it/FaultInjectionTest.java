package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;

/**
 * Real faults on the real servers, while messages are being sent: PgBouncer paused and resumed, PgBouncer
 * restarted, PostgreSQL stopped and started. After each, every listener has received exactly the committed
 * messages (read back from the table), in commit order. Recovery times are printed, not asserted.
 */
@QuarkusTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionTest {

    @Inject
    Bus bus;

    @Inject
    Vertx vertx;

    @Inject
    BusStatus status;

    @Test
    @Order(1)
    void pgbouncerPausedAndResumed() throws Exception {
        Sender sender = new Sender(bus, "pause");
        try (sender) {
            sender.awaitSent(20);
            PgBouncerAdmin.command(vertx, "PAUSE " + Servers.database());
            // PAUSE returned once the transactions in flight ended: from here on a send waits, it does not fail.
            int paused = sender.sent();
            int failedBefore = sender.failed();
            Thread.sleep(2_000);
            assertTrue(sender.sent() <= paused + 1, "sends completed while PgBouncer was paused: "
                    + (sender.sent() - paused));
            assertEquals(failedBefore, sender.failed(), "a send failed while PgBouncer was paused instead of waiting");
            assertTrue(sender.waiting().compareTo(Duration.ofSeconds(1)) >= 0, "no send was waiting for PgBouncer: "
                    + sender.waiting());
            int beforeResume = sender.sent();
            Instant resumed = Instant.now();
            PgBouncerAdmin.command(vertx, "RESUME " + Servers.database());
            sender.awaitSent(beforeResume + 20);
            report("PgBouncer resumed", resumed, sender);
        }
        assertEveryCommittedMessageOnceInOrder("pause", sender);
    }

    @Test
    @Order(2)
    void pgbouncerRestarted() throws Exception {
        Path run = devPostgres().runDirectory();
        Process restarted;
        Sender sender = new Sender(bus, "pgbouncer");
        try (sender) {
            sender.awaitSent(20);
            try {
                PgBouncerAdmin.command(vertx, "SHUTDOWN");
            } catch (Exception expected) {
                // PgBouncer closes the admin connection as it exits.
            }
            awaitGone(run.resolve("pgbouncer.pid"));
            long reconnections = status.reconnections();
            // Long enough for the periodic probe (every 2 s in the demo) to fail to send through the datasource:
            // that is the pooled path's problem, not the listener's, which stays connected.
            await().atMost(Duration.ofSeconds(15)).until(() -> status.probeFailure().isPresent());
            assertEquals(reconnections, status.reconnections(), "a probe that could not be sent reconnected the"
                    + " listener");
            int before = sender.sent();
            Instant start = Instant.now();
            restarted = ServerProcesses.start(run, List.of(pgbouncerBinary(), run.resolve("pgbouncer.ini").toString()),
                    Files.createTempFile("pgbouncer-restart", ".log"));
            sender.awaitSent(before + 20);
            report("PgBouncer restarted", start, sender);
        }
        // While PgBouncer was away, sends failed, each with the bus's own exception (saying which channel).
        assertTrue(sender.failed() > 0, "no send failed while PgBouncer was down");
        assertEquals(Set.of(BusException.class.getName()), sender.failureTypes());
        assertTrue(restarted.isAlive(), "the restarted PgBouncer exited");
        assertEveryCommittedMessageOnceInOrder("pgbouncer", sender);
    }

    @Test
    @Order(3)
    void postgresqlStoppedAndStarted() throws Exception {
        DevPostgres postgres = devPostgres();
        Sender sender = new Sender(bus, "postgres");
        try (sender) {
            sender.awaitSent(20);
            postgres.stop();
            await().atMost(Duration.ofSeconds(30)).until(() -> readiness() == 503);
            Thread.sleep(1_000);
            Instant start = Instant.now();
            postgres.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> readiness() == 200);
            System.out.printf("[fault] PostgreSQL started: readiness UP after %d ms%n",
                    Duration.between(start, Instant.now()).toMillis());
            int before = sender.sent();
            sender.awaitSent(before + 20);
            report("PostgreSQL started", start, sender);
        }
        assertEveryCommittedMessageOnceInOrder("postgres", sender);
    }

    private static int readiness() {
        return given().get("/q/health/ready").then().extract().statusCode();
    }

    private static void report(String fault, Instant start, Sender sender) {
        System.out.printf("[fault] %s: sending again after %d ms; %d sent, %d failed meanwhile%n", fault,
                Duration.between(start, sender.lastSuccessAfter(start)).toMillis(), sender.sent(), sender.failed());
    }

    /**
     * Every send that returned is in the table, in the order the one sender sent them; the listeners received exactly
     * what the table holds for this run, in position order.
     */
    private static void assertEveryCommittedMessageOnceInOrder(String name, Sender sender) throws SQLException {
        List<String> committed = new ArrayList<>();
        try (Connection connection = direct();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT payload FROM " + BusRows.NUMBERED
                                + " WHERE channel = ? AND payload LIKE ? ORDER BY position")) {
            select.setString(1, Channels.SEQUENCE);
            select.setString(2, Sender.prefix(name) + "%");
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    committed.add(rows.getString(1));
                }
            }
        }
        assertTrue(committed.size() >= 40, "only " + committed.size() + " messages committed");
        List<String> missing = sender.accepted().stream().filter(payload -> !committed.contains(payload)).toList();
        assertTrue(missing.isEmpty(), "accepted sends missing from the table: " + missing);
        // A failed send may still have committed (the answer was lost): the sender's indexes may skip, never go back.
        int previous = -1;
        for (String payload : committed) {
            int index = Integer.parseInt(payload.substring(Sender.prefix(name).length()));
            assertTrue(index > previous, "position order differs from the sender's order at " + payload);
            previous = index;
        }
        for (String listener : List.of("sequence", "sequence-event-loop", "sequence-virtual-thread")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> mine(listener, name).size() >= committed.size());
            assertEquals(committed, mine(listener, name), listener + ": lost, doubled or out of order");
        }
    }

    private static List<String> mine(String listener, String name) {
        return DeliveryTest.received(listener).stream().filter(entry -> entry.startsWith(Sender.prefix(name)))
                .toList();
    }

    private static DevPostgres devPostgres() throws Exception {
        try (Connection connection = direct()) {
            return DevPostgres.of(connection);
        }
    }

    private static String pgbouncerBinary() {
        return Files.isExecutable(Path.of("/usr/sbin/pgbouncer")) ? "/usr/sbin/pgbouncer" : "pgbouncer";
    }

    private static void awaitGone(Path pidFile) {
        await().atMost(Duration.ofSeconds(20)).until(() -> !Files.exists(pidFile));
    }

    private static Connection direct() throws SQLException {
        return DriverManager.getConnection(Servers.postgresJdbcUrl(), Servers.user(), Servers.password());
    }

    /** Sends numbered messages, one per transaction, until closed; failures (server away) are counted. */
    static final class Sender implements AutoCloseable {

        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger sent = new AtomicInteger();
        private final AtomicInteger failed = new AtomicInteger();
        private final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
        private final Set<String> failureTypes = ConcurrentHashMap.newKeySet();
        /** When the send in progress started (System.nanoTime()), or 0 between sends. */
        private volatile long sending;
        private volatile Instant lastSuccess = Instant.EPOCH;
        private final CompletableFuture<Void> loop;

        Sender(Bus bus, String name) {
            String prefix = prefix(name);
            loop = CompletableFuture.runAsync(() -> {
                int i = 0;
                while (running.get()) {
                    String payload = prefix + i++;
                    try {
                        sending = System.nanoTime();
                        bus.send(Channels.SEQUENCE, payload);
                        accepted.add(payload);
                        sent.incrementAndGet();
                        lastSuccess = Instant.now();
                    } catch (RuntimeException e) {
                        failed.incrementAndGet();
                        failureTypes.add(e.getClass().getName());
                        pause(100);
                    } finally {
                        sending = 0;
                    }
                    pause(10);
                }
            });
        }

        static String prefix(String name) {
            return "fault-" + name + ":";
        }

        int sent() {
            return sent.get();
        }

        int failed() {
            return failed.get();
        }

        /** The classes of the exceptions failed sends threw. */
        Set<String> failureTypes() {
            return Set.copyOf(failureTypes);
        }

        /** The payloads of the sends that returned. */
        List<String> accepted() {
            return List.copyOf(accepted);
        }

        /** How long the send in progress has been waiting; zero between sends. */
        Duration waiting() {
            long started = sending;
            return started == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - started);
        }

        Instant lastSuccessAfter(Instant start) {
            return lastSuccess.isAfter(start) ? lastSuccess : start;
        }

        void awaitSent(int count) {
            await().atMost(Duration.ofSeconds(120)).until(() -> sent.get() >= count);
        }

        @Override
        public void close() {
            running.set(false);
            loop.join();
        }

        private static void pause(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
