package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Quarkus Messaging on the bus (Fulfilment.java): an Emitter's send commits and rolls back with its caller's
 * transaction; the group "fulfilment" records each order once, in a transaction that also moves its position; a
 * failing order ends on the dead-letter channel and later ones go on; a processor's output reaches a broadcast
 * channel with its metadata, and the source message is acknowledged.
 */
@QuarkusTest
class MessagingTest {

    private static final String POSITION = "SELECT position, xmin::text FROM imdispatcher_bus_groups"
            + " WHERE group_name = 'fulfilment' AND channel = 'purchases'";

    @Inject
    Fulfilment fulfilment;

    @Inject
    BusStatus status;

    @Inject
    ObjectMapper json;

    @Test
    void anOrderSentInACommittedTransactionIsFulfilledOnceAndOneRolledBackIsNeverSent() throws Exception {
        awaitOwner();
        Order kept = new Order(newId(), "book");
        Order withdrawn = new Order(newId(), "lamp");
        fulfilment.place(kept, false);
        assertThrows(IllegalStateException.class, () -> fulfilment.place(withdrawn, true));
        await().atMost(Duration.ofSeconds(20)).until(() -> fulfilled(kept.id()) == 1);
        Order after = new Order(newId(), "pen");
        fulfilment.place(after, false);
        await().atMost(Duration.ofSeconds(20)).until(() -> fulfilled(after.id()) == 1);
        assertEquals(0, fulfilled(withdrawn.id()), "the rolled-back order was fulfilled");
        assertEquals(0, count("SELECT count(*) FROM imdispatcher_bus WHERE channel = 'purchases' AND payload::jsonb ->>"
                + " 'id' = '" + withdrawn.id() + "'"), "the rolled-back order was sent");
        assertEquals(1, fulfilled(kept.id()), "fulfilled twice");
        assertEquals("book", single("SELECT message_key FROM imdispatcher_bus WHERE channel = 'purchases' AND"
                + " payload::jsonb ->> 'id' = '" + kept.id() + "'"), "OutgoingBusMetadata's key");
    }

    @Test
    void theTransactionThatRecordsAnOrderMovesTheGroupsPosition() throws Exception {
        awaitOwner();
        // The sweep may store a later position (past other channels' messages) soon after: try until the stored
        // position is the order's own, then it must have been written by the order's transaction.
        for (int tries = 0; tries < 10; tries++) {
            Order order = new Order(newId(), "chair");
            fulfilment.place(order, false);
            await().atMost(Duration.ofSeconds(20)).until(() -> fulfilled(order.id()) == 1);
            long position = Long.parseLong(single("SELECT position FROM " + BusRows.NUMBERED + " WHERE channel ="
                    + " 'purchases' AND payload::jsonb ->> 'id' = '" + order.id() + "'"));
            String recordedIn = single("SELECT recorded_in FROM fulfilled_orders WHERE order_id = " + order.id());
            try (Connection connection = DurableBusTest.direct();
                    PreparedStatement select = connection.prepareStatement(POSITION);
                    ResultSet row = select.executeQuery()) {
                assertTrue(row.next(), "no stored position");
                if (row.getLong(1) == position) {
                    assertEquals(recordedIn, row.getString(2), "the position moved in another transaction than the"
                            + " order's row: a crash between them would fulfil the order twice, or never");
                    return;
                }
            }
        }
        throw new AssertionError("the stored position was never the last order's");
    }

    @Test
    void aFailingOrderGoesToTheDeadLetterChannelAndLaterOnesGoOn() throws Exception {
        awaitOwner();
        long auditsFailed = auditIn().failed();
        Order poison = new Order(newId(), "poison");
        Order later = new Order(newId(), "desk");
        fulfilment.place(poison, false);
        fulfilment.place(later, false);
        await().atMost(Duration.ofSeconds(20)).until(() -> fulfilled(later.id()) == 1);
        // The broadcast channel audit-in refused the poison order's line and, being failure-strategy=ignore, went on:
        // the status counts that call as failed, not delivered.
        await().atMost(Duration.ofSeconds(20)).until(() -> fulfilment.audited().stream()
                .anyMatch(line -> line.startsWith("order " + later.id() + " of desk@")));
        assertEquals(auditsFailed + 1, auditIn().failed(), "audit-in's failed calls");
        assertEquals(0, fulfilled(poison.id()));
        String letter = single("SELECT payload FROM imdispatcher_bus WHERE channel = 'purchases-dlq' AND payload::jsonb"
                + " ->> 'payload' LIKE '%" + poison.id() + "%'");
        JsonNode parsed = json.readTree(letter);
        assertEquals("fulfilment", parsed.get("group").asText());
        assertEquals(2, parsed.get("attempts").asInt(), "retry-max-attempts is 2");
        assertTrue(parsed.get("message").asText().contains("cannot be fulfilled"), letter);
    }

    @Test
    void aProcessorsOutputReachesABroadcastChannelWithItsMetadata() throws Exception {
        Order order = new Order(newId(), "table");
        fulfilment.place(order, false);
        String line = "order " + order.id() + " of table";
        await().atMost(Duration.ofSeconds(20)).until(() -> fulfilment.audited().stream().anyMatch(
                audited -> audited.startsWith(line + "@audit#")));
        String audited = fulfilment.audited().stream().filter(a -> a.startsWith(line + "@")).findFirst().orElseThrow();
        long position = Long.parseLong(audited.substring(audited.indexOf('#') + 1));
        assertEquals(line, single("SELECT payload FROM " + BusRows.NUMBERED + " WHERE position = " + position),
                "IncomingBusMetadata's position is not the message's");
        // Acknowledged all the way back: the broadcast channel that read the order moved past it.
        await().atMost(Duration.ofSeconds(10)).until(() -> status.listeners().stream()
                .filter(l -> l.listener().equals("Quarkus Messaging channel 'orders-audit'"))
                .allMatch(l -> l.lag() == 0));
    }

    @Test
    void aChannelWithoutRoomMakesItsSendersWaitAndLosesNothing() throws Exception {
        String prefix = DeliveryTest.unique("bulk");
        // From the test's thread, which may wait: 200 messages through a channel with room for 2 waiting ones.
        int[] outcomes = fulfilment.sendBulk(prefix, 200);
        assertEquals(200, outcomes[0], "acknowledged");
        assertEquals(0, outcomes[1], "not acknowledged: dropped for want of room");
        assertEquals(200, count("SELECT count(*) FROM imdispatcher_bus WHERE channel = 'bulk' AND payload LIKE '"
                + prefix + ":%'"));
    }

    private void awaitOwner() {
        await().atMost(Duration.ofSeconds(20)).until(() -> status.groups().stream()
                .anyMatch(g -> g.group().equals("fulfilment") && g.owner()));
    }

    private static long newId() {
        return ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    }

    private BusStatus.ListenerStatus auditIn() {
        return status.listeners().stream().filter(l -> l.listener().equals("Quarkus Messaging channel 'audit-in'"))
                .findFirst().orElseThrow();
    }

    private static long fulfilled(long id) throws Exception {
        return count("SELECT count(*) FROM fulfilled_orders WHERE order_id = " + id);
    }

    static long count(String sql) throws Exception {
        return Long.parseLong(single(sql));
    }

    private static String single(String sql) throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement select = connection.prepareStatement(sql);
                ResultSet row = select.executeQuery()) {
            List<String> values = new ArrayList<>();
            while (row.next()) {
                values.add(row.getString(1));
            }
            assertEquals(1, values.size(), sql);
            return values.get(0);
        }
    }
}
