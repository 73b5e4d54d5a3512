package io.quarkiverse.busaltconnection.runtime.http;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.runtime.MessageChecks;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.vertx.core.http.HttpServerRequest;

/**
 * What an HTTP client asks to read: channels, and the cursor it has (absent: from now on). Parsed from a long-poll's
 * JSON body or an SSE request's query and {@code Last-Event-ID}, validated against the configured limits; anything
 * else is a {@link BadRequest} saying what to change.
 */
record ReadRequest(Set<String> channels, Optional<Cursor> last) {

    /** {@code {"channels": ["a", "b"], "last": "<epoch>-<position>"}}; {@code last} optional. */
    static ReadRequest fromPollBody(ObjectMapper json, String body, ImDispatcherConfig.Http limits)
            throws BadRequest {
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (Exception e) {
            throw BadRequest.invalid("the body is not JSON: send {\"channels\": [\"...\"], \"last\": \"<cursor>\"}");
        }
        if (node == null || !node.isObject()) {
            throw BadRequest.invalid("the body must be a JSON object: {\"channels\": [\"...\"], \"last\": \"<cursor>\"}");
        }
        JsonNode channels = node.get("channels");
        if (channels == null || !channels.isArray()) {
            throw BadRequest.invalid("\"channels\" must be an array of channel names");
        }
        List<String> names = new ArrayList<>();
        for (JsonNode channel : channels) {
            if (!channel.isTextual()) {
                throw BadRequest.invalid("\"channels\" must hold strings; found " + channel.getNodeType());
            }
            names.add(channel.asText());
        }
        JsonNode last = node.get("last");
        Optional<Cursor> cursor = Optional.empty();
        if (last != null && !last.isNull()) {
            cursor = Optional.of(Cursor.parse(last.isTextual() ? last.asText() : last.toString(), "\"last\""));
        }
        return validated(names, cursor, limits);
    }

    /** {@code ?channel=a&channel=b&last=<cursor>}, or the {@code Last-Event-ID} header of a reconnecting EventSource. */
    static ReadRequest fromQuery(HttpServerRequest request, ImDispatcherConfig.Http limits)
            throws BadRequest {
        List<String> names = request.params().getAll("channel");
        String last = request.getHeader("Last-Event-ID");
        String source = "the Last-Event-ID header";
        if (last == null || last.isBlank()) {
            last = request.getParam("last");
            source = "\"last\"";
        }
        Optional<Cursor> cursor = Optional.empty();
        if (last != null && !last.isBlank()) {
            cursor = Optional.of(Cursor.parse(last, source));
        }
        return validated(names, cursor, limits);
    }

    private static ReadRequest validated(List<String> names, Optional<Cursor> last,
            ImDispatcherConfig.Http limits) throws BadRequest {
        if (names.isEmpty()) {
            throw BadRequest.invalid("no channel given: name at least one channel to read");
        }
        Set<String> channels = new LinkedHashSet<>(names);
        if (channels.size() > limits.maxChannels()) {
            throw BadRequest.invalid(channels.size() + " channels asked for; at most " + limits.maxChannels()
                    + " per request (quarkus.imdispatcher.http.max-channels)");
        }
        for (String channel : channels) {
            if (channel.length() > limits.maxChannelLength()) {
                throw BadRequest.invalid("the channel name '" + abbreviate(channel) + "' is " + channel.length()
                        + " characters long; at most " + limits.maxChannelLength()
                        + " (quarkus.imdispatcher.http.max-channel-length)");
            }
            var problem = MessageChecks.busChannelProblem(channel);
            if (problem.isPresent()) {
                throw BadRequest.invalid(problem.get());
            }
        }
        return new ReadRequest(channels, last);
    }

    static String abbreviate(String text) {
        return text.length() > 60 ? text.substring(0, 60) + "..." : text;
    }
}
