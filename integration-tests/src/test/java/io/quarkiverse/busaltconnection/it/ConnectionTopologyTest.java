package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jakarta.inject.Inject;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;

/**
 * Which PostgreSQL backends the application holds, told apart by PgBouncer's own view: a backend whose pid PgBouncer
 * lists in SHOW SERVERS (remote_pid) is reached through the pooler; any other one is a direct connection.
 */
@QuarkusTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConnectionTopologyTest {

    private record Backend(int pid, String applicationName, String query) {
    }

    @Inject
    Vertx vertx;

    @Inject
    AgroalDataSource dataSource;

    @Inject
    BusStatus status;

    @Test
    @Order(1)
    void exactlyOneDirectListeningBackendAndEverythingElseThroughPgBouncer() throws Exception {
        // Use the pooled path first, so it holds server connections.
        String text = DeliveryTest.unique("topology");
        DeliveryTest.send("greetings", text);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(text + "@")));
        int listenerPid = given().get("/bus/listener").then().statusCode(200).extract().path("backendPid");

        List<Backend> backends = applicationBackends();
        Set<Integer> pooled = pgbouncerServerPids();
        List<Backend> direct = backends.stream().filter(b -> !pooled.contains(b.pid())).toList();

        assertEquals(1, direct.size(), "direct backends: " + direct + "; all: " + backends);
        Backend listener = direct.get(0);
        assertEquals(listenerPid, listener.pid());
        assertEquals("imdispatcher", listener.applicationName());
        // Its last statement is the bus's own work: the LISTEN, the sequencer's lock or numbering, a read of the bus,
        // a look at the groups' locks or at the server's identity.
        assertTrue(listener.query().startsWith("LISTEN ") || listener.query().contains("\"imdispatcher_bus")
                || listener.query().contains("pg_try_advisory_lock") || listener.query().contains("pg_notify")
                || listener.query().contains("pg_locks") || listener.query().contains("pg_control_system"),
                listener.query());
        assertFalse(backends.stream().filter(b -> pooled.contains(b.pid())).toList().isEmpty(),
                "no backend of the application comes through PgBouncer: " + backends);
        assertTrue(pgbouncerClientsOfAppDatabase() >= 1, "PgBouncer lists no client of the application");
    }

    @Test
    @Order(2)
    void datasourceGoesThroughPgBouncerInTransactionModeAndListenerDirect() throws Exception {
        var pool = PgBouncerAdmin.show(vertx, "POOLS").stream()
                .filter(row -> Servers.database().equals(row.getString("database"))).findFirst().orElseThrow();
        assertEquals("transaction", pool.getString("pool_mode"));
        assertTrue(Integer.parseInt(pool.getValue("cl_active").toString()) >= 1,
                "PgBouncer's pool for the application's database has no client");
        // Where the extension says its listener is connected: PostgreSQL's port, which Dev Services set apart from
        // PgBouncer's, not the datasource's.
        assertTrue(status.server().contains(":" + Servers.postgresPort() + "/"), status.server());
        assertFalse(status.server().contains(":" + Servers.pgbouncerPort() + "/"), status.server());
    }

    @Test
    @Order(3)
    void aStatementRunMoreThanPrepareThresholdTimesWorksAcrossServerConnections() throws Exception {
        Set<Integer> servers = new HashSet<>();
        try (Connection hopping = dataSource.getConnection();
                Connection other = dataSource.getConnection();
                PreparedStatement statement = hopping.prepareStatement("SELECT pg_backend_pid(), ?::int + 1")) {
            // pgjdbc names a statement after 5 executions by default; 12 executions, each a transaction of its own.
            for (int i = 0; i < 12; i++) {
                statement.setInt(1, i);
                try (ResultSet row = statement.executeQuery()) {
                    row.next();
                    servers.add(row.getInt(1));
                    assertEquals(i + 1, row.getInt(2));
                }
                // PgBouncer hands out the server connection released last: the other client takes it every second
                // time, so the next execution runs on another server connection.
                if (i % 2 == 0) {
                    other.setAutoCommit(false);
                    try (Statement hold = other.createStatement()) {
                        hold.execute("SELECT 1");
                    }
                } else {
                    other.commit();
                    other.setAutoCommit(true);
                }
            }
        }
        assertTrue(servers.size() >= 2, "every execution ran on the same server connection: " + servers);
    }

    @Test
    @Order(4)
    void directClientBypassesPgBouncer() throws Exception {
        int pid = Integer.parseInt(given().get("/bus/direct").then().statusCode(200).extract().asString());
        assertFalse(pgbouncerServerPids().contains(pid), "the @BusListener client went through PgBouncer");
        Backend backend = applicationBackends().stream().filter(b -> b.pid() == pid).findFirst().orElseThrow();
        assertEquals("imdispatcher-client", backend.applicationName());
    }

    private static List<Backend> applicationBackends() throws SQLException {
        List<Backend> backends = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection(Servers.postgresJdbcUrl(), Servers.user(),
                Servers.password());
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pid, application_name, query FROM pg_stat_activity"
                        + " WHERE datname = current_database() AND backend_type = 'client backend'"
                        + " AND pid <> pg_backend_pid()")) {
            while (rows.next()) {
                backends.add(new Backend(rows.getInt(1), rows.getString(2), rows.getString(3)));
            }
        }
        return backends;
    }

    private Set<Integer> pgbouncerServerPids() throws Exception {
        Set<Integer> pids = new HashSet<>();
        PgBouncerAdmin.show(vertx, "SERVERS").forEach(row -> pids.add(Integer.parseInt(row.getValue("remote_pid")
                .toString())));
        return pids;
    }

    private long pgbouncerClientsOfAppDatabase() throws Exception {
        return PgBouncerAdmin.show(vertx, "CLIENTS").stream()
                .filter(row -> Servers.database().equals(row.getString("database"))).count();
    }
}
