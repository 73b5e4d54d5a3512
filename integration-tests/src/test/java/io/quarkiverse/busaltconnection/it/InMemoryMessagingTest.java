package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Message;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/**
 * A user's unit test of a Quarkus Messaging application on the bus: the channels swapped for the in-memory connector
 * ({@code InMemoryConnector.switch...ChannelsToInMemory}), the application's code unchanged.
 */
@QuarkusTest
@TestProfile(InMemoryMessagingTest.InMemoryChannels.class)
class InMemoryMessagingTest {

    /** The fulfilment's channels in memory; the others stay on the bus. */
    public static class InMemoryChannels implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> properties = new HashMap<>(InMemoryConnector.switchIncomingChannelsToInMemory(
                    "orders-in"));
            properties.putAll(InMemoryConnector.switchOutgoingChannelsToInMemory("orders-out"));
            // The switch also sets system properties: the tests of other classes, in this JVM, keep the bus.
            InMemoryConnector.clear();
            return properties;
        }
    }

    @Inject
    @Any
    InMemoryConnector connector;

    @Inject
    Fulfilment fulfilment;

    @Test
    void theApplicationsChannelsRunInMemory() throws Exception {
        Order sent = new Order(ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE), "lamp");
        fulfilment.place(sent, false);
        List<? extends Message<Order>> received = connector.<Order> sink("orders-out").received();
        assertEquals(List.of(sent), received.stream().map(Message::getPayload).toList());

        Order incoming = new Order(ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE), "desk");
        connector.<Order> source("orders-in").send(incoming);
        await().atMost(Duration.ofSeconds(10)).until(() -> fulfilled(incoming.id()) == 1);
    }

    private static long fulfilled(long id) throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT count(*) FROM fulfilled_orders WHERE order_id = ?")) {
            select.setLong(1, id);
            try (ResultSet row = select.executeQuery()) {
                row.next();
                return row.getLong(1);
            }
        }
    }
}
