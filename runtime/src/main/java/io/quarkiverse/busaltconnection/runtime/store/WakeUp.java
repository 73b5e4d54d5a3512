package io.quarkiverse.busaltconnection.runtime.store;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The one notification a committed bus transaction sends to every instance: the range of ids it committed and,
 * when they fit in a NOTIFY payload, the messages themselves, which saves the listeners a query on the hot path.
 *
 * @param messages the committed messages, or empty when they did not fit: read ids {@code first..last} from the
 *        table
 */
public record WakeUp(long first, long last, List<StoredMessage> messages) {

    /** Under PostgreSQL's 8000-byte NOTIFY payload limit, with room to spare. */
    static final int MAX_INLINE_BYTES = 7900;

    String encode(ObjectMapper json) {
        ObjectNode node = json.createObjectNode().put("f", first).put("l", last);
        String bare = node.toString();
        ArrayNode inline = node.putArray("m");
        for (StoredMessage message : messages) {
            inline.addObject().put("i", message.id()).put("c", message.channel()).put("p", message.payload())
                    .put("t", micros(message.createdAt()));
        }
        String full = node.toString();
        return full.getBytes(StandardCharsets.UTF_8).length <= MAX_INLINE_BYTES ? full : bare;
    }

    /**
     * @throws IllegalArgumentException for a payload that is not a wake-up (somebody else notified the channel)
     */
    public static WakeUp decode(ObjectMapper json, String payload) {
        try {
            JsonNode node = json.readTree(payload);
            if (node == null || !node.path("f").canConvertToLong() || !node.path("l").canConvertToLong()) {
                throw new IllegalArgumentException("not a bus wake-up: " + abbreviate(payload));
            }
            List<StoredMessage> messages = new ArrayList<>();
            for (JsonNode message : node.path("m")) {
                long micros = message.path("t").asLong();
                messages.add(new StoredMessage(message.path("i").asLong(), message.path("c").asText(),
                        message.path("p").asText(), Instant.ofEpochSecond(micros / 1_000_000, micros % 1_000_000 * 1000)));
            }
            return new WakeUp(node.get("f").asLong(), node.get("l").asLong(), messages);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a bus wake-up: " + abbreviate(payload), e);
        }
    }

    private static long micros(Instant time) {
        return time.getEpochSecond() * 1_000_000 + time.getNano() / 1000;
    }

    private static String abbreviate(String text) {
        return text.length() > 100 ? text.substring(0, 100) + "..." : text;
    }
}
