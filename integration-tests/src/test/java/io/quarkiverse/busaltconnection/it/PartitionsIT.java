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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.restassured.path.json.JsonPath;

/**
 * The demo's group "tracking" (Tracking.java, four partitions by parcel) over three application JVMs on a database of
 * its own: two share the partitions two and two, a third joining takes a share, a frozen member (SIGSTOP) loses its
 * partitions to the others within the stall timeout, a member killed gives its partitions to the others. Every
 * message's row is written exactly once, and each parcel's events in the order they were sent.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class PartitionsIT {

    private static final Set<Integer> ALL = Set.of(0, 1, 2, 3);

    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void partitionsAreSharedTakenByAJoinerFromAFrozenMemberAndFromAKilledOne() throws Exception {
        try (FreshDatabase database = new FreshDatabase("partitions")) {
            int portA = AppProcess.freePort();
            int portB = AppProcess.freePort();
            int portC = AppProcess.freePort();
            AppProcess a = AppProcess.start(database.appConfig(portA));
            AppProcess b = null;
            AppProcess c = null;
            try {
                b = AppProcess.start(database.appConfig(portB));
                a.awaitHttp(portA, "/q/health/ready");
                b.awaitHttp(portB, "/q/health/ready");
                await().atMost(Duration.ofSeconds(30)).until(() -> owned(portA).size() == 2
                        && owned(portB).size() == 2);
                assertEquals(ALL, union(portA, portB), "the two members' partitions");

                insert(database, "first", 3000);
                await().atMost(Duration.ofSeconds(60)).until(() -> recorded(database, "first") >= 300);
                c = AppProcess.start(database.appConfig(portC));
                c.awaitHttp(portC, "/q/health/ready");
                // The joiner takes its share: one partition each for two members, two for one.
                await().atMost(Duration.ofSeconds(30)).until(() -> !owned(portC).isEmpty()
                        && owned(portA).size() + owned(portB).size() + owned(portC).size() == 4
                        && union(portA, portB, portC).equals(ALL));

                // A member frozen (a GC pause that does not end): the others end its connection and take over.
                AppProcess.signal(b.process.pid(), "STOP");
                try {
                    await().atMost(Duration.ofSeconds(30)).until(() -> union(portA, portC).equals(ALL));
                } finally {
                    AppProcess.signal(b.process.pid(), "CONT");
                }
                await().atMost(Duration.ofSeconds(120)).until(() -> recorded(database, "first") >= 3000);
                assertExactlyOnceInKeyOrder(database, "first", 3000);

                // A member killed: the others share its partitions.
                c.process.destroyForcibly();
                assertTrue(c.process.waitFor(30, TimeUnit.SECONDS));
                await().atMost(Duration.ofSeconds(30)).until(() -> owned(portA).size() == 2
                        && owned(portB).size() == 2 && union(portA, portB).equals(ALL));
                insert(database, "second", 500);
                await().atMost(Duration.ofSeconds(60)).until(() -> recorded(database, "second") >= 500);
                assertExactlyOnceInKeyOrder(database, "second", 500);
                assertExactlyOnceInKeyOrder(database, "first", 3000);
            } finally {
                a.close();
                if (b != null) {
                    b.close();
                }
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    /** The partitions of group "tracking" the instance at {@code port} owns now (none if it does not answer). */
    private Set<Integer> owned(int port) {
        try {
            String groups = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/bus/groups"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            List<Integer> partitions = JsonPath.from(groups)
                    .getList("findAll { it.group == 'tracking' && it.owner }.partition", Integer.class);
            return new HashSet<>(partitions);
        } catch (Exception e) {
            return Set.of();
        }
    }

    private Set<Integer> union(int... ports) {
        Set<Integer> all = new HashSet<>();
        for (int port : ports) {
            all.addAll(owned(port));
        }
        return all;
    }

    private static void insert(FreshDatabase database, String run, int count) throws Exception {
        database.commitMessages(Tracking.CHANNEL, run, count, 20);
    }

    private static long recorded(FreshDatabase database, String run) throws Exception {
        return database.number("SELECT count(*) FROM parcel_events WHERE payload LIKE ?", run + ":%");
    }

    /** One row per message, and each parcel's rows committed in the order its messages were sent. */
    private static void assertExactlyOnceInKeyOrder(FreshDatabase database, String run, int count) throws Exception {
        long[] rows = database.rowsAndPositions("parcel_events", run);
        assertEquals(count, rows[0], run + ": rows");
        assertEquals(count, rows[1], run + ": a message recorded twice");
        try (Connection connection = database.connect();
                PreparedStatement order = connection.prepareStatement("SELECT parcel, payload FROM parcel_events"
                        + " WHERE payload LIKE ? ORDER BY seq")) {
            order.setString(1, run + ":%");
            Map<String, Integer> last = new HashMap<>();
            try (ResultSet row = order.executeQuery()) {
                while (row.next()) {
                    String parcel = row.getString(1);
                    String[] parts = row.getString(2).split(":");
                    assertEquals(parcel, "parcel-" + parts[1], "the key of " + row.getString(2));
                    int step = Integer.parseInt(parts[2]);
                    Integer before = last.put(parcel, step);
                    assertTrue(before == null || before < step, parcel + ": " + step + " after " + before);
                }
            }
        }
    }
}
