package io.quarkiverse.busaltconnection.deployment.devui;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkus.test.QuarkusDevModeTest;

/**
 * The Dev UI card's JSON-RPC methods, in dev mode on Dev Services: the listener's state, the listener methods, and a
 * test message sent from the card that shows up in its feed and in the listener's count.
 */
class BusDevUiTest {

    private static final String NAMESPACE = "quarkus-bus-alt-connection";

    @RegisterExtension
    static final QuarkusDevModeTest DEV_MODE = new QuarkusDevModeTest()
            .withApplicationRoot(jar -> jar.addClasses(Greetings.class));

    public static class Greetings {
        @BusListener("greetings")
        void on(String text) {
            if (text.equals("bad")) {
                throw new IllegalArgumentException("refused by the test listener");
            }
        }
    }

    @Test
    void stateListenersAndATestMessageThatShowsUpInTheFeed() throws Exception {
        JsonNode state = DevUiJsonRpcClient.call(NAMESPACE, "getState", Map.of());
        assertTrue(state.path("listening").asBoolean(), state.toString());
        assertTrue(state.path("backendPid").asInt() > 0, state.toString());

        JsonNode listeners = DevUiJsonRpcClient.call(NAMESPACE, "getListeners", Map.of());
        assertEquals(1, listeners.size(), listeners.toString());
        assertEquals("greetings", listeners.get(0).path("channel").asText());
        assertTrue(listeners.get(0).path("method").asText().endsWith("Greetings#on(java.lang.String)"),
                listeners.toString());

        JsonNode sent = DevUiJsonRpcClient.call(NAMESPACE, "sendTestMessage",
                Map.of("channel", "greetings", "payload", "from the Dev UI"));
        assertTrue(sent.path("sent").asBoolean(), sent.toString());
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            JsonNode messages = DevUiJsonRpcClient.call(NAMESPACE, "getRecentMessages", Map.of());
            return messages.size() == 1 && messages.get(0).path("payload").asText().equals("from the Dev UI")
                    && messages.get(0).path("channel").asText().equals("greetings");
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> DevUiJsonRpcClient.call(NAMESPACE, "getListeners",
                Map.of()).get(0).path("delivered").asLong() == 1);

        // One meaning, the meters': a call that throws is failed, not delivered.
        assertTrue(DevUiJsonRpcClient.call(NAMESPACE, "sendTestMessage", Map.of("channel", "greetings", "payload",
                "bad")).path("sent").asBoolean());
        await().atMost(Duration.ofSeconds(20)).until(() -> DevUiJsonRpcClient.call(NAMESPACE, "getListeners",
                Map.of()).get(0).path("failed").asLong() == 1);
        assertEquals(1, DevUiJsonRpcClient.call(NAMESPACE, "getListeners", Map.of()).get(0).path("delivered").asLong());

        JsonNode refused = DevUiJsonRpcClient.call(NAMESPACE, "sendTestMessage", Map.of("channel", "", "payload", "x"));
        assertTrue(!refused.path("sent").asBoolean() && refused.path("error").asText().contains("channel"),
                refused.toString());
    }
}
