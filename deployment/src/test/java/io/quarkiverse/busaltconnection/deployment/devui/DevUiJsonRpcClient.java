package io.quarkiverse.busaltconnection.deployment.devui;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Calls a method of the Dev UI's JSON-RPC endpoint as the Dev UI page does: over its WebSocket, method
 * {@code <extension namespace>_<method>}, the answer's object under {@code result.object}.
 */
final class DevUiJsonRpcClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger IDS = new AtomicInteger();

    private DevUiJsonRpcClient() {
    }

    static JsonNode call(String namespace, String method, Map<String, Object> params) throws Exception {
        int id = IDS.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create("ws://localhost:8080/q/dev-ui/json-rpc-ws"), new WebSocket.Listener() {
                    private final StringBuilder text = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        text.append(data);
                        if (last) {
                            try {
                                JsonNode message = JSON.readTree(text.toString());
                                if (message.path("id").asInt() == id) {
                                    answer.complete(message);
                                }
                            } catch (Exception e) {
                                answer.completeExceptionally(e);
                            }
                            text.setLength(0);
                        }
                        webSocket.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        try {
            socket.sendText(JSON.writeValueAsString(Map.of("jsonrpc", "2.0", "id", id, "method",
                    namespace + "_" + method, "params", params)), true);
            JsonNode message = answer.get(20, TimeUnit.SECONDS);
            if (message.has("error")) {
                throw new IllegalStateException(method + " failed: " + message.get("error"));
            }
            return message.path("result").path("object");
        } finally {
            socket.abort();
        }
    }
}
