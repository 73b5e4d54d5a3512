package io.quarkiverse.busaltconnection.deployment.devui;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.test.QuarkusDevModeTest;

/**
 * A Quarkus Messaging application in dev mode on Dev Services, with no configuration at all: its {@code @Incoming}
 * channel is attached to the connector (the only one) and receives what is sent on the bus channel of its name.
 */
class MessagingDevModeTest {

    private static final String NAMESPACE = "quarkus-bus-alt-connection";
    private static final String LISTENER = "Quarkus Messaging channel 'orders'";

    @RegisterExtension
    static final QuarkusDevModeTest DEV_MODE = new QuarkusDevModeTest()
            .withApplicationRoot(jar -> jar.addClasses(Orders.class));

    @ApplicationScoped
    public static class Orders {
        @Incoming("orders")
        void on(String order) {
        }
    }

    @Test
    void anIncomingChannelWithoutConfigurationReceivesTheBusChannelOfItsName() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> delivered() >= 0);
        long before = delivered();
        JsonNode sent = DevUiJsonRpcClient.call(NAMESPACE, "sendTestMessage",
                Map.of("channel", "orders", "payload", "an order"));
        assertTrue(sent.path("sent").asBoolean(), sent.toString());
        await().atMost(Duration.ofSeconds(20)).until(() -> delivered() == before + 1);
    }

    /** The connector channel's delivered count from the Dev UI's listener table; -1 while it is not there. */
    private static long delivered() throws Exception {
        for (JsonNode listener : DevUiJsonRpcClient.call(NAMESPACE, "getListeners", Map.of())) {
            if (listener.path("method").asText().equals(LISTENER)) {
                assertTrue(listener.path("channel").asText().equals("orders"), listener.toString());
                return listener.path("delivered").asLong();
            }
        }
        return -1;
    }
}
