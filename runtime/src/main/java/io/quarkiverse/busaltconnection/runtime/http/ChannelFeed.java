package io.quarkiverse.busaltconnection.runtime.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.dispatch.LiveFeed;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.vertx.core.Context;

/**
 * One HTTP client's view of the bus: first the backlog (pages after its position, read from the table), then the live
 * messages of its channels, without a gap or a repeat between them. It subscribes to the live feed before the first
 * page is read and buffers what arrives meanwhile; positions order everything, so "after the last position sent"
 * decides what is new. The buffer is bounded: past {@code maxBuffered} messages the feed gives up ({@code overflow})
 * and the client resumes from its cursor. Everything it hands on runs on the request's context; it holds no database
 * connection while waiting.
 */
final class ChannelFeed {

    private final LiveFeed feed;
    private final Set<String> channels;
    private final Context context;
    private final Consumer<List<BusMessage>> sink;
    private final Runnable overflow;
    private final int maxBuffered;
    private final List<BusMessage> buffered = new ArrayList<>();
    private final Consumer<BusMessage> subscriber;
    private final String kind;
    private final BusObservers observers;
    private long lastSent;
    private boolean live;
    private boolean closed;

    /**
     * @param sink receives batches of new messages, in position order
     * @param overflow called once when more than {@code maxBuffered} live messages waited; the feed is closed then
     * @param kind the kind of client, {@code long-poll} or {@code sse}, for the observers
     */
    ChannelFeed(LiveFeed feed, Set<String> channels, Context context, long after, int maxBuffered,
            Consumer<List<BusMessage>> sink, Runnable overflow, String kind, BusObservers observers) {
        this.feed = feed;
        this.kind = kind;
        this.observers = observers;
        this.channels = channels;
        this.context = context;
        this.lastSent = after;
        this.maxBuffered = maxBuffered;
        this.sink = sink;
        this.overflow = overflow;
        // Runs on the live feed: only filter and hop to the request's context there.
        this.subscriber = message -> {
            if (this.channels.contains(message.channel())) {
                this.context.runOnContext(ignored -> onLive(message));
            }
        };
        // Positions the client has are gone with the history: it is let go as on overflow, and its next request, with
        // a cursor of the old epoch, is told to reload.
        feed.subscribe(subscriber, () -> this.context.runOnContext(ignored -> {
            if (!closed) {
                close();
                overflow.run();
            }
        }));
        observers.httpClientJoined(kind);
    }

    long lastSent() {
        return lastSent;
    }

    /**
     * Before it went live: goes on after {@code position}, below the cursor it came with (which was ahead of the head).
     * Live messages dropped meanwhile as already sent are in the table, and the backlog read from there brings them.
     */
    void restartAfter(long position) {
        if (!live) {
            lastSent = position;
            buffered.removeIf(message -> message.position() <= position);
        }
    }

    /** A page of the backlog; a complete one switches to live delivery. */
    void backlog(Page page) {
        if (closed) {
            return;
        }
        List<BusMessage> batch = new ArrayList<>();
        for (StoredMessage row : page.messages()) {
            if (row.position() > lastSent) {
                batch.add(row.message());
            }
        }
        send(batch);
        if (page.complete()) {
            live = true;
            List<BusMessage> waiting = new ArrayList<>();
            for (BusMessage message : buffered) {
                if (message.position() > lastSent) {
                    waiting.add(message);
                }
            }
            buffered.clear();
            send(waiting);
        }
    }

    private void onLive(BusMessage message) {
        if (closed || message.position() <= lastSent) {
            return;
        }
        if (live) {
            send(List.of(message));
        } else if (buffered.size() < maxBuffered) {
            buffered.add(message);
        } else {
            close();
            overflow.run();
        }
    }

    private void send(List<BusMessage> batch) {
        if (!batch.isEmpty() && !closed) {
            lastSent = batch.get(batch.size() - 1).position();
            sink.accept(batch);
        }
    }

    void close() {
        if (!closed) {
            closed = true;
            buffered.clear();
            feed.unsubscribe(subscriber);
            observers.httpClientLeft(kind);
        }
    }
}
