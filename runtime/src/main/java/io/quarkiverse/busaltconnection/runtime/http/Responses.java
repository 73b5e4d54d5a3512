package io.quarkiverse.busaltconnection.runtime.http;

import java.util.List;

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
        return json.createObjectNode().put("id", message.id()).put("channel", message.channel())
                .put("payload", message.payload()).put("time", message.time().toString());
    }

    static String messages(ObjectMapper json, List<BusMessage> messages) {
        ArrayNode array = json.createArrayNode();
        messages.forEach(message -> array.add(message(json, message)));
        return array.toString();
    }

    static void error(ObjectMapper json, HttpServerResponse response, int status, String error, String message) {
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(json.createObjectNode().put("error", error).put("message", message).toString());
    }
}
