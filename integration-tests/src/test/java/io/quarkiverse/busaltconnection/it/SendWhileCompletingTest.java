package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionManager;
import jakarta.transaction.TransactionSynchronizationRegistry;

import org.junit.jupiter.api.Test;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Sends made while a transaction completes: from JTA synchronizations registered before or after the first send and
 * from CDI observers of {@code BEFORE_COMPLETION}, written with the transaction; after it completed (afterCompletion,
 * {@code AFTER_SUCCESS}, a {@code @TransactionScoped} bean's destruction), written on their own. None is counted as
 * sent and lost; a write that fails rolls the transaction back.
 */
@QuarkusTest
class SendWhileCompletingTest {

    private static final Duration DELIVERY = Duration.ofSeconds(10);

    @Inject
    Bus bus;

    @Inject
    TransactionManager transactionManager;

    @Inject
    TransactionSynchronizationRegistry registry;

    @Inject
    AgroalDataSource dataSource;

    @Inject
    Event<CompletionSenders.Completing> completing;

    @Inject
    Event<CompletionSenders.Committed> committed;

    @Inject
    CompletionSenders senders;

    @Inject
    Inbox inbox;

    @Inject
    TransactionScopedSender transactionScoped;

    @Inject
    io.vertx.core.Vertx vertx;

    @Test
    void aSynchronizationRegisteredAfterTheFirstSendSendsWithTheTransaction() throws Exception {
        String early = DeliveryTest.unique("early");
        String late = DeliveryTest.unique("late");
        transactionManager.begin();
        bus.send("greetings", early);
        registry.registerInterposedSynchronization(beforeCompletion(() -> bus.send("greetings", late)));
        transactionManager.commit();
        assertDelivered(early, late);
    }

    @Test
    void aSynchronizationRegisteredBeforeTheFirstSendSendsWithTheTransaction() throws Exception {
        String early = DeliveryTest.unique("early");
        String late = DeliveryTest.unique("late");
        transactionManager.begin();
        registry.registerInterposedSynchronization(beforeCompletion(() -> bus.send("greetings", late)));
        bus.send("greetings", early);
        transactionManager.commit();
        assertDelivered(early, late);
    }

    @Test
    void theFirstSendOfATransactionMayComeFromItsCompletion() throws Exception {
        String only = DeliveryTest.unique("only-at-completion");
        transactionManager.begin();
        registry.registerInterposedSynchronization(beforeCompletion(() -> bus.send("greetings", only)));
        transactionManager.commit();
        assertDelivered(only);
    }

    @Test
    void aPlainSynchronizationSendsWithTheTransaction() throws Exception {
        String early = DeliveryTest.unique("early");
        String plain = DeliveryTest.unique("plain");
        transactionManager.begin();
        bus.send("greetings", early);
        transactionManager.getTransaction().registerSynchronization(beforeCompletion(() -> bus.send("greetings", plain)));
        transactionManager.commit();
        assertDelivered(early, plain);
    }

    @Test
    void aBeforeCompletionObserverFiredAfterTheFirstSendSendsWithTheTransaction() throws Exception {
        String early = DeliveryTest.unique("early");
        String observed = DeliveryTest.unique("observed");
        transactionManager.begin();
        bus.send("greetings", early);
        completing.fire(new CompletionSenders.Completing("greetings", observed));
        transactionManager.commit();
        assertDelivered(early, observed);
    }

    @Test
    void manyLateSendsKeepTheirOrder() throws Exception {
        String channel = DeliveryTest.unique("late-order");
        transactionManager.begin();
        bus.send(channel, "0");
        registry.registerInterposedSynchronization(beforeCompletion(() -> {
            for (int i = 1; i <= 3; i++) {
                bus.send(channel, Integer.toString(i));
            }
        }));
        bus.send(channel, "4");
        transactionManager.commit();
        // The late ones are written after the transaction's own: their positions follow.
        assertEquals(List.of("0", "4", "1", "2", "3"), payloadsInPositionOrder(channel));
    }

    @Test
    void aLateWriteThatFailsRollsTheTransactionBackEvenIfTheSenderSwallowsTheError() throws Exception {
        String channel = DeliveryTest.unique("late-refused");
        String early = DeliveryTest.unique("early");
        List<RuntimeException> seen = new CopyOnWriteArrayList<>();
        try (RefusedChannel refused = new RefusedChannel(channel)) {
            transactionManager.begin();
            bus.send("greetings", early);
            registry.registerInterposedSynchronization(beforeCompletion(() -> {
                try {
                    bus.send(channel, "refused while completing");
                } catch (RuntimeException e) {
                    seen.add(e);
                }
            }));
            assertThrows(RollbackException.class, transactionManager::commit);
            assertEquals(1, seen.size());
            assertInstanceOf(BusException.class, seen.get(0));
            assertTrue(seen.get(0).getMessage().contains("rolls back"), seen.get(0).getMessage());
            assertEquals(0, rowsWith(early), "the transaction committed without its late message");
        }
    }

    @Test
    void aSendAfterTheCommitIsWrittenOnItsOwn() throws Exception {
        String inside = DeliveryTest.unique("inside");
        String after = DeliveryTest.unique("after-commit");
        List<RuntimeException> refused = new CopyOnWriteArrayList<>();
        transactionManager.begin();
        bus.send("greetings", inside);
        registry.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {
            }

            @Override
            public void afterCompletion(int status) {
                try {
                    bus.send("greetings", after);
                } catch (RuntimeException e) {
                    refused.add(e);
                }
            }
        });
        transactionManager.commit();
        assertEquals(List.of(), refused);
        assertDelivered(inside, after);
    }

    @Test
    void anAfterSuccessObserverSendsOnItsOwn() throws Exception {
        String after = DeliveryTest.unique("after-success");
        int before = senders.refusedAfterSuccess.size();
        transactionManager.begin();
        committed.fire(new CompletionSenders.Committed("greetings", after));
        transactionManager.commit();
        assertEquals(before, senders.refusedAfterSuccess.size(), String.valueOf(senders.refusedAfterSuccess));
        assertDelivered(after);
    }

    @Test
    void aSendAfterARollbackIsWrittenOnItsOwn() throws Exception {
        String after = DeliveryTest.unique("after-rollback");
        List<RuntimeException> refused = new CopyOnWriteArrayList<>();
        transactionManager.begin();
        registry.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {
            }

            @Override
            public void afterCompletion(int status) {
                assertEquals(Status.STATUS_ROLLEDBACK, status);
                try {
                    bus.send("greetings", after);
                } catch (RuntimeException e) {
                    refused.add(e);
                }
            }
        });
        transactionManager.rollback();
        assertEquals(List.of(), refused);
        assertDelivered(after);
    }

    /** It is destroyed after the commit: the message is written on its own. */
    @Test
    void aTransactionScopedBeanSendsWhenItsTransactionEnds() throws Exception {
        String destroyed = DeliveryTest.unique("destroyed");
        int before = TransactionScopedSender.OUTCOMES.size();
        transactionManager.begin();
        transactionScoped.sendWhenDestroyed(destroyed);
        transactionManager.commit();
        assertEquals(before + 1, TransactionScopedSender.OUTCOMES.size());
        Object outcome = TransactionScopedSender.OUTCOMES.get(before);
        assertEquals("sent", outcome);
        assertDelivered(destroyed);
    }

    @Test
    void aSendOnTheEventLoopIsRefusedSayingWhereToSendFrom() throws Exception {
        String channel = DeliveryTest.unique("event-loop");
        java.util.concurrent.CompletableFuture<Throwable> outcome = new java.util.concurrent.CompletableFuture<>();
        vertx.getOrCreateContext().runOnContext(v -> {
            try {
                bus.send(channel, "from the event loop");
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        Throwable refused = outcome.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(refused != null && refused.getMessage().contains("event loop"), String.valueOf(refused));
        assertEquals(0, BusSendContractTest.rowsOn(channel));
    }

    private void assertDelivered(String... payloads) throws SQLException {
        for (String payload : payloads) {
            assertEquals(1, rowsWith(payload), "not written once: " + payload);
            await().atMost(DELIVERY).until(() -> inbox.of("greetings").stream()
                    .filter(entry -> entry.startsWith(payload + "@")).count() == 1);
        }
    }

    private static Synchronization beforeCompletion(Runnable action) {
        return new Synchronization() {
            @Override
            public void beforeCompletion() {
                action.run();
            }

            @Override
            public void afterCompletion(int status) {
            }
        };
    }

    static int rowsWith(String payload) throws SQLException {
        try (Connection direct = DurableBusTest.direct();
                PreparedStatement count = direct.prepareStatement("SELECT count(*) FROM imdispatcher_bus WHERE payload = ?")) {
            count.setString(1, payload);
            try (ResultSet result = count.executeQuery()) {
                result.next();
                return result.getInt(1);
            }
        }
    }

    private static List<String> payloadsInPositionOrder(String channel) throws SQLException {
        await().atMost(DELIVERY).until(() -> {
            try (Connection direct = DurableBusTest.direct();
                    PreparedStatement unnumbered = direct.prepareStatement(
                            "SELECT count(*) FROM imdispatcher_bus b WHERE channel = ? AND " + BusRows.UNNUMBERED)) {
                unnumbered.setString(1, channel);
                try (ResultSet result = unnumbered.executeQuery()) {
                    result.next();
                    return result.getInt(1) == 0;
                }
            }
        });
        try (Connection direct = DurableBusTest.direct();
                PreparedStatement rows = direct.prepareStatement(
                        "SELECT b.payload FROM imdispatcher_bus b JOIN imdispatcher_bus_positions p ON p.xid = b.xid"
                                + " AND p.id = b.id WHERE b.channel = ? ORDER BY p.position")) {
            rows.setString(1, channel);
            try (ResultSet result = rows.executeQuery()) {
                List<String> payloads = new java.util.ArrayList<>();
                while (result.next()) {
                    payloads.add(result.getString(1));
                }
                return payloads;
            }
        }
    }
}
