package io.quarkiverse.busaltconnection.runtime.http;

import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkiverse.busaltconnection.BusMessage;
import io.vertx.core.http.HttpServerResponse;

/** The JSON the HTTP delivery answers with: messages, and errors that say what to change. */
final class Responses {

    private Responses() {
    }

    static ObjectNode message(ObjectMapper json, BusMessage message) {
        ObjectNode node = json.createObjectNode().put("position", message.position())
                .put("channel", message.channel()).put("payload", message.payload())
                .put("time", message.time().toString());
        if (message.traceparent() != null) {
            // A browser can continue the sender's trace (W3C Trace Context), as its tracing library allows.
            node.put("traceparent", message.traceparent());
        }
        return node;
    }

    /**
     * A long-poll answer: {@code {"messages": [...], "last": "<cursor>", "reload": false}}, with {@code "reason"} when
     * {@code reload} is true.
     */
    static String poll(ObjectMapper json, List<BusMessage> messages, Cursor last, Optional<String> reload) {
        ObjectNode answer = json.createObjectNode();
        ArrayNode array = answer.putArray("messages");
        messages.forEach(message -> array.add(message(json, message)));
        answer.put("last", last.toString()).put("reload", reload.isPresent());
        reload.ifPresent(reason -> answer.put("reason", reason));
        return answer.toString();
    }

    static void error(ObjectMapper json, HttpServerResponse response, int status, String error, String message) {
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(json.createObjectNode().put("error", error).put("message", message).toString());
    }
}
