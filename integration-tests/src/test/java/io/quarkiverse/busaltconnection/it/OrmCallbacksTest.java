package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.UUID;

import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Hibernate ORM entity callbacks that send, run by the flush at commit (the id comes from a sequence, so the INSERT
 * waits for the flush too): the bus's write comes after the flush whether the transaction's first {@code Bus.send}
 * came before or after its first use of the {@code EntityManager}, so every event is written with the transaction and
 * arrives exactly once.
 */
@QuarkusTest
class OrmCallbacksTest {

    private static final Duration DELIVERY = Duration.ofSeconds(10);

    @Inject
    Bus bus;

    @Inject
    EntityManager entityManager;

    @Inject
    Inbox inbox;

    @Test
    void sendingBeforeTheFirstEntityManagerUse() throws Exception {
        String label = "before-" + UUID.randomUUID();
        Long id = QuarkusTransaction.requiringNew().call(() -> {
            bus.send("greetings", "first:" + label);
            return persist(label);
        });
        QuarkusTransaction.requiringNew().run(() -> {
            bus.send("greetings", "again:" + label);
            entityManager.find(Shipment.class, id).status = "shipped";
        });
        assertArrivesOnce("first:" + label, "persisted:" + label, "again:" + label, "updated:" + label + ":shipped");
    }

    @Test
    void sendingAfterTheFirstEntityManagerUse() throws Exception {
        String label = "after-" + UUID.randomUUID();
        Long id = QuarkusTransaction.requiringNew().call(() -> {
            Long persisted = persist(label);
            bus.send("greetings", "first:" + label);
            return persisted;
        });
        QuarkusTransaction.requiringNew().run(() -> {
            entityManager.find(Shipment.class, id).status = "shipped";
            bus.send("greetings", "again:" + label);
        });
        assertArrivesOnce("first:" + label, "persisted:" + label, "again:" + label, "updated:" + label + ":shipped");
    }

    @Test
    void callbacksAloneSendWithTheTransaction() throws Exception {
        String label = "alone-" + UUID.randomUUID();
        QuarkusTransaction.requiringNew().call(() -> persist(label));
        assertArrivesOnce("persisted:" + label);
    }

    private Long persist(String label) {
        Shipment shipment = new Shipment();
        shipment.label = label;
        entityManager.persist(shipment);
        return shipment.id;
    }

    private void assertArrivesOnce(String... payloads) throws Exception {
        for (String payload : payloads) {
            assertEquals(1, SendWhileCompletingTest.rowsWith(payload), "not written once: " + payload);
            await().atMost(DELIVERY).until(() -> inbox.of("greetings").stream()
                    .filter(entry -> entry.startsWith(payload + "@")).count() == 1);
        }
    }
}
