package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
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

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

/**
 * The durable consumer group "ledger" (Ledger.java) on one instance: each message's row is written once, a call
 * that fails is retried and its row written once, a message that keeps failing goes to the dead-letter channel with
 * its error and later messages go on, and the stored position follows.
 */
@QuarkusTest
class GroupTest {

    @Inject
    BusStatus status;

    @Inject
    Ledger ledger;

    @Inject
    ObjectMapper json;

    @Test
    void everyMessageIsRecordedOnceAFailedCallIsRetriedAndThePositionIsStored() throws Exception {
        awaitOwner();
        String run = DeliveryTest.unique("ledger");
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String payload = (i == 7 ? "fail-once-" : "") + run + ":" + i;
            sent.add(payload);
            DeliveryTest.send(Ledger.CHANNEL, payload);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> recorded(run).size() == 20);
        assertEquals(sent, recorded(run), "recorded twice, lost or out of order");
        assertEquals(2, ledger.calls("fail-once-" + run + ":7"), "the failed call was not retried once");
        // The failed call's row went back with its transaction: one row, from the retry.
        await().atMost(Duration.ofSeconds(10)).until(() -> storedPosition() == lastPosition(run));
        BusStatus.GroupStatus group = ledgerStatus();
        assertTrue(group.owner(), group.toString());
        assertTrue(group.retries() >= 1, group.toString());
        String tags = "group=\"ledger\"";
        assertEquals(1.0, PrometheusScrape.required("imdispatcher_group_owner", tags));
        assertTrue(PrometheusScrape.required("imdispatcher_group_retries_total", tags) >= 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> PrometheusScrape.required("imdispatcher_group_lag", tags) == 0);
    }

    @Test
    void aPoisonedMessageGoesToTheDeadLetterChannelAndLaterOnesGoOn() throws Exception {
        awaitOwner();
        String run = DeliveryTest.unique("ledger");
        long deadBefore = ledgerStatus().deadLetters();
        DeliveryTest.send(Ledger.CHANNEL, run + ":before");
        DeliveryTest.send(Ledger.CHANNEL, "poison-" + run);
        DeliveryTest.send(Ledger.CHANNEL, run + ":after");
        await().atMost(Duration.ofSeconds(20)).until(() -> recorded(run).contains(run + ":after"));
        assertEquals(List.of(run + ":before", run + ":after"), recorded(run));
        assertEquals(3, ledger.calls("poison-" + run), "max-attempts is 3");
        await().atMost(Duration.ofSeconds(10)).until(() -> DeliveryTest.received("ledger-dlq").stream()
                .anyMatch(letter -> letter.contains("poison-" + run)));
        String letter = DeliveryTest.received("ledger-dlq").stream().filter(l -> l.contains("poison-" + run))
                .findFirst().orElseThrow();
        JsonNode parked = json.readTree(letter);
        assertEquals("ledger", parked.path("group").asText());
        assertEquals(Ledger.CHANNEL, parked.path("channel").asText());
        assertEquals("poison-" + run, parked.path("payload").asText());
        assertEquals(IllegalStateException.class.getName(), parked.path("error").asText());
        assertEquals(3, parked.path("attempts").asInt());
        assertTrue(parked.path("position").asLong() > 0, letter);
        assertEquals(deadBefore + 1, ledgerStatus().deadLetters());
    }

    @Test
    void keyedMessagesReachTheirPartitionWithTheirKeyInOrder() throws Exception {
        awaitTrackingPartitions();
        String run = DeliveryTest.unique("parcel");
        for (int i = 0; i < 12; i++) {
            given().contentType(ContentType.TEXT).body(run + ":" + i).queryParam("key", run + "-" + (i % 3))
                    .post("/bus/send/" + Tracking.CHANNEL).then().statusCode(204);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> single("SELECT count(*) FROM parcel_events WHERE payload"
                + " LIKE '" + run + ":%'") == 12);
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement select = connection.prepareStatement("SELECT parcel, payload FROM parcel_events"
                        + " WHERE payload LIKE ? ORDER BY seq")) {
            select.setString(1, run + ":%");
            Map<String, List<String>> byParcel = new HashMap<>();
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    byParcel.computeIfAbsent(rows.getString(1), p -> new ArrayList<>()).add(rows.getString(2));
                }
            }
            for (int key = 0; key < 3; key++) {
                List<String> expected = new ArrayList<>();
                for (int i = key; i < 12; i += 3) {
                    expected.add(run + ":" + i);
                }
                assertEquals(expected, byParcel.get(run + "-" + key), "the key's messages, in order");
            }
        }
        assertEquals(1.0, PrometheusScrape.required("imdispatcher_group_owner", "group=\"tracking\"", "partition=\"3\""));
    }

    @Test
    void partitionsWithoutMessagesOfTheirOwnStoreThePositionTheyReadTo() throws Exception {
        awaitTrackingPartitions();
        String run = DeliveryTest.unique("onekey");
        for (int i = 0; i < 5; i++) {
            given().contentType(ContentType.TEXT).body(run + ":" + i).queryParam("key", run)
                    .post("/bus/send/" + Tracking.CHANNEL).then().statusCode(204);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> single("SELECT count(*) FROM parcel_events WHERE payload"
                + " LIKE '" + run + ":%'") == 5);
        long last = single("SELECT max(position) FROM " + BusRows.NUMBERED + " WHERE payload LIKE '" + run + ":%'");
        // One key: one partition had the messages; the three others store that they read past them, so that none
        // holds retention (or a change of the partition count) back at an older message of its own.
        await().atMost(Duration.ofSeconds(10)).until(() -> single("SELECT count(*) FROM imdispatcher_bus_groups"
                + " WHERE group_name = 'tracking' AND channel = '" + Tracking.CHANNEL + "' AND position >= " + last) == 4);
    }

    @Test
    void aCallThatHangsMakesTheGroupStuckUntilItReturns() throws Exception {
        awaitOwner();
        String run = DeliveryTest.unique("hang");
        DeliveryTest.send(Ledger.CHANNEL, run);
        await().atMost(Duration.ofSeconds(10)).until(() -> ledgerStatus().stuck());
        assertTrue(ledgerStatus().oldestUnfinished().isPresent(), ledgerStatus().toString());
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'Bus Alt Connection listener' }.data.'group ledger on ledger'",
                        containsString("stuck"));
        assertTrue(PrometheusScrape.required("imdispatcher_group_oldest_unfinished_age_seconds", "group=\"ledger\"") > 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> recorded(run).size() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> !ledgerStatus().stuck());
        given().get("/q/health/ready").then().statusCode(200);
    }

    /** One instance runs the group "tracking": it owns all four partitions. */
    private void awaitTrackingPartitions() {
        await().atMost(Duration.ofSeconds(20)).until(() -> status.groups().stream()
                .filter(g -> g.group().equals("tracking") && g.owner()).count() == 4);
    }

    private void awaitOwner() {
        await().atMost(Duration.ofSeconds(20)).until(() -> ledgerStatus().owner());
    }

    private BusStatus.GroupStatus ledgerStatus() {
        return status.groups().stream().filter(g -> g.group().equals("ledger")).findFirst().orElseThrow();
    }

    /** The payloads of this run recorded in ledger_entries, in position order (a double shows twice). */
    private static List<String> recorded(String run) throws Exception {
        List<String> payloads = new ArrayList<>();
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement select = connection.prepareStatement("SELECT payload FROM ledger_entries WHERE"
                        + " payload LIKE ? ORDER BY position, recorded_at")) {
            select.setString(1, "%" + run + "%");
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    payloads.add(rows.getString(1));
                }
            }
        }
        return payloads;
    }

    private static long storedPosition() throws Exception {
        return single("SELECT position FROM imdispatcher_bus_groups WHERE group_name = 'ledger' AND channel = '"
                + Ledger.CHANNEL + "'");
    }

    private static long lastPosition(String run) throws Exception {
        return single("SELECT max(position) FROM " + BusRows.NUMBERED + " WHERE channel = '" + Ledger.CHANNEL
                + "' AND payload LIKE '%" + run + "%'");
    }

    private static long single(String sql) throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement select = connection.prepareStatement(sql);
                ResultSet row = select.executeQuery()) {
            row.next();
            return row.getLong(1);
        }
    }
}
