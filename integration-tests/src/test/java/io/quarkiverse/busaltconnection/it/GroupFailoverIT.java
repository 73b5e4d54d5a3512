package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.restassured.path.json.JsonPath;

/**
 * The durable consumer group "ledger" (Ledger.java) over two application JVMs on a database of its own: the owner is
 * killed (SIGKILL) in the middle of a backlog and the other instance finishes it; then every instance is down while
 * messages are committed, and a new one delivers them. Every message's row is written exactly once.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class GroupFailoverIT {

    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void theOwnerKilledMidBacklogAndEveryInstanceDownLoseNothingAndDoubleNothing() throws Exception {
        try (FreshDatabase database = new FreshDatabase("groups")) {
            int portA = AppProcess.freePort();
            int portB = AppProcess.freePort();
            // Both at once: the demo's table creation tolerates the race.
            AppProcess a = AppProcess.start(database.appConfig(portA));
            AppProcess b = null;
            try {
                b = AppProcess.start(database.appConfig(portB));
                a.awaitHttp(portA, "/q/health/ready");
                b.awaitHttp(portB, "/q/health/ready");
                await().atMost(Duration.ofSeconds(20)).until(() -> owns(portA) || owns(portB));
                assertTrue(owns(portA) != owns(portB), "both or neither instance own the group");
                AppProcess owner = owns(portA) ? a : b;
                AppProcess other = owner == a ? b : a;
                int survivor = owns(portA) ? portB : portA;

                insert(database, "first", 1000);
                // In the middle of the backlog.
                await().atMost(Duration.ofSeconds(60)).until(() -> recorded(database, "first") >= 150);
                owner.process.destroyForcibly();
                assertTrue(owner.process.waitFor(30, TimeUnit.SECONDS));
                assertTrue(recorded(database, "first") < 1000, "the backlog was done before the kill");
                await().atMost(Duration.ofSeconds(30)).until(() -> owns(survivor));
                await().atMost(Duration.ofSeconds(120)).until(() -> recorded(database, "first") >= 1000);
                assertExactlyOnce(database, "first", 1000);

                // Every instance down while messages are committed.
                other.close();
                insert(database, "while-down", 300);
            } finally {
                a.close();
                if (b != null) {
                    b.close();
                }
            }
            int portC = AppProcess.freePort();
            try (AppProcess c = AppProcess.start(database.appConfig(portC))) {
                c.awaitHttp(portC, "/q/health/ready");
                await().atMost(Duration.ofSeconds(60)).until(() -> recorded(database, "while-down") >= 300);
                assertExactlyOnce(database, "while-down", 300);
                assertExactlyOnce(database, "first", 1000);
            }
        }
    }

    private boolean owns(int port) {
        try {
            String groups = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/bus/groups"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            return !JsonPath.from(groups).getList("findAll { it.group == 'ledger' && it.owner }").isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    private static void insert(FreshDatabase database, String run, int count) throws Exception {
        database.commitMessages(Ledger.CHANNEL, run, count, 0);
    }

    private static long recorded(FreshDatabase database, String run) throws Exception {
        return database.number("SELECT count(*) FROM ledger_entries WHERE payload LIKE ?", run + ":%");
    }

    /** One row per message, in the messages' order, and the messages in the order they were sent. */
    private static void assertExactlyOnce(FreshDatabase database, String run, int count) throws Exception {
        long[] rows = database.rowsAndPositions("ledger_entries", run);
        assertEquals(count, rows[0], run + ": rows");
        assertEquals(count, rows[1], run + ": a message recorded twice");
        try (Connection connection = database.connect();
                PreparedStatement order = connection.prepareStatement("SELECT payload FROM ledger_entries WHERE"
                        + " payload LIKE ? ORDER BY position")) {
            order.setString(1, run + ":%");
            int expected = 0;
            try (ResultSet row = order.executeQuery()) {
                while (row.next()) {
                    assertEquals(run + ":" + expected++, row.getString(1), "out of order");
                }
            }
        }
    }

}
