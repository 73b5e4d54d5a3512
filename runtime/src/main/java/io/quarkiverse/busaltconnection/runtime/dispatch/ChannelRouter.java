package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.MessageChecks;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.sequence.HeadHint;
import io.quarkiverse.busaltconnection.runtime.sequence.Numbered;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;

/**
 * Tells the readers of this instance that the bus moved: each {@code @BusListener}'s {@link ListenerCursor} (only
 * those whose channel moved, when that is known) and the {@link LiveFeed} of HTTP clients. What moves it: the
 * runs of this instance's own sequencer, the listening connection's return, and the head read from the state row
 * ({@link HeadWatch}), after a head hint from whichever instance sequences or at a sweep. It also carries plain
 * NOTIFYs to the listeners that asked for them. Hints are never trusted: a hint for channels this instance reads only
 * makes the head be read, and only readers behind the head read.
 */
final class ChannelRouter {

    private final List<ListenerCursor> cursors;
    private final Map<String, List<ListenerCursor>> cursorsByChannel = new LinkedHashMap<>();
    private final List<GroupCursor> groups;
    private final LiveFeed liveFeed;
    private final KnownHead knownHead;
    private volatile Instant lastNotification;

    /**
     * Registers its channels on {@code connection}, which must not have started yet.
     *
     * @param hinted told the channels of each head hint (empty: every channel), which it checks against the head (see
     *        {@link HeadWatch})
     */
    ChannelRouter(List<ListenerCursor> cursors, List<GroupCursor> groups, LiveFeed liveFeed, KnownHead knownHead,
            ListenerConnection connection, BusTable table, Consumer<Optional<Set<String>>> hinted) {
        this.cursors = cursors;
        this.groups = groups;
        this.liveFeed = liveFeed;
        this.knownHead = knownHead;
        for (ListenerCursor cursor : cursors) {
            cursorsByChannel.computeIfAbsent(cursor.method().channel, c -> new ArrayList<>()).add(cursor);
        }
        connection.listen(table.headChannel(), payload -> {
            noticed();
            Optional<Set<String>> channels = HeadHint.decode(payload).channels();
            if (readsAny(channels)) {
                hinted.accept(channels);
            }
        });
        // Whatever was committed while nobody listened is in the table: every reader reads on.
        connection.onListening(() -> wake(Optional.empty()));
        cursorsByChannel.forEach((channel, listeners) -> {
            List<ListenerCursor> plain = listeners.stream().filter(c -> c.method().plainNotifications).toList();
            // Plain NOTIFY interop, opt-in per listener, for channels PostgreSQL can carry.
            if (!plain.isEmpty() && MessageChecks.channelProblem(channel).isEmpty() && !table.reserved(channel)) {
                connection.listen(channel, payload -> {
                    noticed();
                    BusMessage message = new BusMessage(channel, 0, Instant.now(), payload == null ? "" : payload);
                    plain.forEach(cursor -> cursor.deliverPlain(message));
                });
            }
        });
    }

    /**
     * Whether a reader of this instance reads {@code channels} (empty: any channel): a hint for channels nobody here
     * reads costs no read of the head, so that a fleet of instances with other listeners pays PostgreSQL's signal
     * and nothing more for each run. The live feed reads every channel while an HTTP client subscribes. (The sweep
     * still reads the head, and with it checks the history, in every instance.)
     */
    private boolean readsAny(Optional<Set<String>> channels) {
        if (channels.isEmpty() || liveFeed.wanted()) {
            return true;
        }
        for (String channel : channels.get()) {
            if (cursorsByChannel.containsKey(channel)) {
                return true;
            }
        }
        for (GroupCursor group : groups) {
            if (channels.get().contains(group.method().channel)) {
                return true;
            }
        }
        return false;
    }

    /** The channels of the {@code @BusListener} methods, broadcast and grouped. */
    List<String> channels() {
        Set<String> all = new LinkedHashSet<>(cursorsByChannel.keySet());
        groups.forEach(group -> all.add(group.method().channel));
        return List.copyOf(all);
    }

    Optional<Instant> lastNotification() {
        return Optional.ofNullable(lastNotification);
    }

    private void noticed() {
        lastNotification = Instant.now();
    }

    /**
     * What this instance's own sequencer numbered: verified facts. A listener whose channel had none moves past them
     * at once; one that had some and waits at the run's start takes them from the run, without reading them again;
     * any other reads.
     */
    void numbered(Numbered run) {
        knownHead.seen(run.head());
        if (run.channels().isEmpty()) {
            wake(Optional.empty());
            return;
        }
        wakeGroups(run.channels());
        for (ListenerCursor cursor : cursors) {
            String channel = cursor.method().channel;
            if (run.channels().get().contains(channel)) {
                cursor.offer(run.before(), run.head(), run.messagesOf(channel));
            } else {
                cursor.offer(run.before(), run.head(), Optional.of(List.of()));
            }
        }
        liveFeed.wake();
    }

    private void wakeGroups(Optional<Set<String>> channels) {
        for (GroupCursor group : groups) {
            if (channels.isEmpty() || channels.get().contains(group.method().channel)) {
                group.wake();
            }
        }
    }

    /** The database's history changed: every reader goes on from {@code head}, in the new epoch. */
    void historyChanged(long head) {
        cursors.forEach(cursor -> cursor.rewind(head));
        liveFeed.rewind(head);
        liveFeed.historyChanged();
        groups.forEach(group -> group.rewind(head));
    }

    /**
     * The head read from the database: the readers of {@code channels} (empty: of every channel) that are behind it
     * read on; those already there do nothing, so that a hint that moved nothing costs no read.
     */
    void headRead(long head, Optional<Set<String>> channels) {
        for (GroupCursor group : groups) {
            if (channels.isEmpty() || channels.get().contains(group.method().channel)) {
                group.wakeBelow(head);
            }
        }
        if (channels.isEmpty()) {
            cursors.forEach(cursor -> cursor.wakeBelow(head));
        } else {
            for (String channel : channels.get()) {
                cursorsByChannel.getOrDefault(channel, List.of()).forEach(cursor -> cursor.wakeBelow(head));
            }
        }
        liveFeed.wakeBelow(head);
    }

    /** Messages of {@code channels} (empty: of any channel) may have been numbered: their readers read on. */
    private void wake(Optional<Set<String>> channels) {
        wakeGroups(channels);
        if (channels.isEmpty()) {
            cursors.forEach(PageLoop::wake);
        } else {
            for (String channel : channels.get()) {
                cursorsByChannel.getOrDefault(channel, List.of()).forEach(PageLoop::wake);
            }
        }
        liveFeed.wake();
    }
}
