package io.quarkiverse.busaltconnection.runtime.sequence;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

/**
 * What one of this instance's sequencer runs numbered: read from the database, so to be trusted, unlike a head
 * wake-up from elsewhere.
 *
 * @param before the head before the run
 * @param head the head after it
 * @param channels every channel of the run's messages, when there were at most {@link BusTable#HEAD_CHANNELS}
 * @param messages the run's messages in position order, when the run was small (see {@link BusTable#sequence()})
 */
public record Numbered(long before, long head, Optional<Set<String>> channels, Optional<List<StoredMessage>> messages) {

    static Numbered of(Row row) {
        long head = row.getLong(0);
        long count = row.getLong(1);
        String[] names = row.getArrayOfStrings(2);
        Optional<Set<String>> channels = names == null || names.length > BusTable.HEAD_CHANNELS ? Optional.empty()
                : Optional.of(Set.of(names));
        Object rows = row.getValue(3);
        Optional<List<StoredMessage>> messages = Optional.empty();
        if (rows instanceof JsonArray array && array.size() == count) {
            List<StoredMessage> list = new ArrayList<>(array.size());
            for (int i = 0; i < array.size(); i++) {
                JsonObject message = array.getJsonObject(i);
                long micros = message.getLong("t");
                list.add(new StoredMessage(message.getLong("p"), message.getString("c"), message.getString("d"),
                        Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000), Math.floorMod(micros, 1_000_000) * 1000),
                        message.getString("x"), message.getString("k")));
            }
            messages = Optional.of(list);
        }
        return new Numbered(head - count, head, channels, messages);
    }

    /** The run's messages of {@code channel}, if the run returned its messages. */
    public Optional<List<StoredMessage>> messagesOf(String channel) {
        return messages.map(all -> all.stream().filter(m -> m.channel().equals(channel)).toList());
    }
}
