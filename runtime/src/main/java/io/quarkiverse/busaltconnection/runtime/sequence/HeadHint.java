package io.quarkiverse.busaltconnection.runtime.sequence;

import java.util.Optional;
import java.util.Set;

import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * What the sequencer's wake-up says (written by its statement, {@link BusTable#sequence()}): when few, the channels
 * whose messages it numbered, so that only their readers read. The payload also carries the new head ({@code "h"}),
 * for people watching the channel with psql; no reader uses it. Only a hint: anyone can NOTIFY, so a reader never
 * takes a position from it, and a notification it cannot read wakes every reader (a read that finds nothing is the
 * worst a forgery can cause; a forgery cannot suppress the real notification that follows every run).
 */
public record HeadHint(Optional<Set<String>> channels) {

    /** Reads a notification's payload; anything unreadable means "something may have moved, on any channel". */
    public static HeadHint decode(String payload) {
        try {
            JsonArray names = new JsonObject(payload).getJsonArray("c");
            if (names == null) {
                return new HeadHint(Optional.empty());
            }
            return new HeadHint(Optional.of(Set.copyOf(names.stream().map(String::valueOf).toList())));
        } catch (RuntimeException e) {
            return new HeadHint(Optional.empty());
        }
    }
}
