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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.restassured.path.json.JsonPath;

/**
 * A durable consumer group over two application JVMs on a database of its own, for both kinds of member: the
 * {@code @BusListener} group "ledger" (Ledger.java) and the Quarkus Messaging group "fulfilment" (Fulfilment.java,
 * through the connector). The owner is killed (SIGKILL) in the middle of a backlog and the other instance finishes it;
 * then every instance is down while messages are committed, and a new one delivers them. Every message's row is
 * written exactly once, in order.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class GroupFailoverIT {

    private final HttpClient client = HttpClient.newHttpClient();

    /** What the scenario needs to know of a group: how to send it a backlog and read what it recorded. */
    private interface Member {

        String group();

        void send(FreshDatabase database, String run, int count) throws Exception;

        long recorded(FreshDatabase database, String run) throws Exception;

        /** The recorded rows' message numbers (0 to count - 1), in the order they were written. */
        List<Long> recordedInOrder(FreshDatabase database, String run) throws Exception;
    }

    /** The group of a {@code @BusListener} method: one row of ledger_entries per message "run:i". */
    private static final Member LEDGER = new Member() {

        @Override
        public String group() {
            return "ledger";
        }

        @Override
        public void send(FreshDatabase database, String run, int count) throws Exception {
            database.commitMessages(Ledger.CHANNEL, run, count, 0);
        }

        @Override
        public long recorded(FreshDatabase database, String run) throws Exception {
            return database.number("SELECT count(*) FROM ledger_entries WHERE payload LIKE ?", run + ":%");
        }

        @Override
        public List<Long> recordedInOrder(FreshDatabase database, String run) throws Exception {
            return numbers(database, "SELECT split_part(payload, ':', 2)::bigint FROM ledger_entries WHERE payload"
                    + " LIKE ? || ':%' ORDER BY position, recorded_at", run);
        }
    };

    /** The group of a Quarkus Messaging channel: one row of fulfilled_orders per order {"id": i, "item": run}. */
    private static final Member FULFILMENT = new Member() {

        @Override
        public String group() {
            return "fulfilment";
        }

        @Override
        public void send(FreshDatabase database, String run, int count) throws Exception {
            try (Connection connection = database.connect();
                    PreparedStatement insert = connection.prepareStatement("INSERT INTO imdispatcher_bus (channel,"
                            + " payload) SELECT 'purchases', json_build_object('id', g, 'item', ?::text)::text FROM"
                            + " generate_series(0, ? - 1) AS g ORDER BY g")) {
                insert.setString(1, run);
                insert.setInt(2, count);
                insert.executeUpdate();
            }
        }

        @Override
        public long recorded(FreshDatabase database, String run) throws Exception {
            return database.number("SELECT count(*) FROM fulfilled_orders WHERE item = ?", run);
        }

        @Override
        public List<Long> recordedInOrder(FreshDatabase database, String run) throws Exception {
            return numbers(database, "SELECT order_id FROM fulfilled_orders WHERE item = ? ORDER BY seq", run);
        }
    };

    @Test
    void aBusListenerGroupsOwnerKilledMidBacklogAndEveryInstanceDownLoseNothingAndDoubleNothing() throws Exception {
        ownerKilledThenEveryInstanceDown(LEDGER);
    }

    @Test
    void aMessagingGroupsOwnerKilledMidBacklogAndEveryInstanceDownLoseNothingAndDoubleNothing() throws Exception {
        ownerKilledThenEveryInstanceDown(FULFILMENT);
    }

    private void ownerKilledThenEveryInstanceDown(Member member) throws Exception {
        try (FreshDatabase database = new FreshDatabase("groups_" + member.group())) {
            int portA = AppProcess.freePort();
            int portB = AppProcess.freePort();
            // Both at once: the demo's table creation tolerates the race.
            AppProcess a = AppProcess.start(database.appConfig(portA));
            AppProcess b = null;
            try {
                b = AppProcess.start(database.appConfig(portB));
                a.awaitHttp(portA, "/q/health/ready");
                b.awaitHttp(portB, "/q/health/ready");
                await().atMost(Duration.ofSeconds(20)).until(() -> owns(portA, member) || owns(portB, member));
                assertTrue(owns(portA, member) != owns(portB, member), "both or neither instance own the group");
                AppProcess owner = owns(portA, member) ? a : b;
                AppProcess other = owner == a ? b : a;
                int survivor = owns(portA, member) ? portB : portA;

                member.send(database, "first", 1000);
                // In the middle of the backlog.
                await().atMost(Duration.ofSeconds(60)).until(() -> member.recorded(database, "first") >= 150);
                owner.process.destroyForcibly();
                assertTrue(owner.process.waitFor(30, TimeUnit.SECONDS));
                assertTrue(member.recorded(database, "first") < 1000, "the backlog was done before the kill");
                await().atMost(Duration.ofSeconds(30)).until(() -> owns(survivor, member));
                await().atMost(Duration.ofSeconds(120)).until(() -> member.recorded(database, "first") >= 1000);
                assertExactlyOnce(database, member, "first", 1000);

                // Every instance down while messages are committed.
                other.close();
                member.send(database, "while-down", 300);
            } finally {
                a.close();
                if (b != null) {
                    b.close();
                }
            }
            int portC = AppProcess.freePort();
            try (AppProcess c = AppProcess.start(database.appConfig(portC))) {
                c.awaitHttp(portC, "/q/health/ready");
                await().atMost(Duration.ofSeconds(60)).until(() -> member.recorded(database, "while-down") >= 300);
                assertExactlyOnce(database, member, "while-down", 300);
                assertExactlyOnce(database, member, "first", 1000);
            }
        }
    }

    private boolean owns(int port, Member member) {
        try {
            String groups = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/bus/groups"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            return !JsonPath.from(groups).getList("findAll { it.group == '" + member.group() + "' && it.owner }")
                    .isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    /** One row per message, in the messages' order. */
    private static void assertExactlyOnce(FreshDatabase database, Member member, String run, int count)
            throws Exception {
        List<Long> recorded = member.recordedInOrder(database, run);
        assertEquals(count, recorded.size(), run + ": rows (more: a message recorded twice)");
        assertEquals(LongStream.range(0, count).boxed().toList(), recorded, run + ": lost, doubled or out of order");
    }

    private static List<Long> numbers(FreshDatabase database, String sql, String run) throws Exception {
        List<Long> numbers = new ArrayList<>();
        try (Connection connection = database.connect(); PreparedStatement query = connection.prepareStatement(sql)) {
            query.setString(1, run);
            try (ResultSet row = query.executeQuery()) {
                while (row.next()) {
                    numbers.add(row.getLong(1));
                }
            }
        }
        return numbers;
    }
}
