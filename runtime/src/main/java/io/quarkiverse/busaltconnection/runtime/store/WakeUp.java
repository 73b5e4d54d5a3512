package io.quarkiverse.busaltconnection.runtime.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The one notification a committed bus transaction sends to every instance (written by the table's send function,
 * see {@link BusTable#sendFunction()}): the range of ids it committed and, when they fit in a NOTIFY payload, the
 * messages themselves, which saves the listeners a query on the hot path.
 *
 * @param messages the committed messages, or empty when they did not fit: read ids {@code first..last} from the
 *        table
 */
public record WakeUp(long first, long last, List<StoredMessage> messages) {

    /** Under PostgreSQL's 8000-byte NOTIFY payload limit, with room to spare. */
    static final int MAX_INLINE_BYTES = 7900;

    /** Channels and payloads larger than this together are not even tried inline: JSON only adds to them. */
    static final int INLINE_CANDIDATE_BYTES = 7000;

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

    private static String abbreviate(String text) {
        return text.length() > 100 ? text.substring(0, 100) + "..." : text;
    }
}
