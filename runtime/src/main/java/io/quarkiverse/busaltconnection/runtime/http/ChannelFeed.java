package io.quarkiverse.busaltconnection.runtime.http;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusDispatcher;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.vertx.core.Context;

/**
 * One HTTP client's view of the bus: first the backlog (messages after its last id, read from the table), then the
 * live messages of its channels, without a gap or a repeat between them. It subscribes to the dispatcher before
 * the backlog is read and buffers what arrives meanwhile; ids follow commit order, so "greater than the last id
 * sent" decides what is new. Everything it hands to the sink runs on the request's context; it holds no database
 * connection while waiting.
 */
final class ChannelFeed {

    private final BusDispatcher dispatcher;
    private final Set<String> channels;
    private final Context context;
    private final Consumer<List<BusMessage>> sink;
    private final List<BusMessage> buffered = new ArrayList<>();
    private final Consumer<BusMessage> subscriber;
    private long lastSent;
    private boolean live;
    private boolean closed;

    ChannelFeed(BusDispatcher dispatcher, Set<String> channels, Context context, long lastId,
            Consumer<List<BusMessage>> sink) {
        this.dispatcher = dispatcher;
        this.channels = channels;
        this.context = context;
        this.lastSent = lastId;
        this.sink = sink;
        // Runs on the listening connection's event loop: only filter and hop to the request's context there.
        this.subscriber = message -> {
            if (this.channels.contains(message.channel())) {
                this.context.runOnContext(ignored -> onLive(message));
            }
        };
        dispatcher.subscribe(subscriber);
    }

    long lastSent() {
        return lastSent;
    }

    /**
     * A page of the backlog, in id order; {@code complete} when no more follows, which switches to live delivery.
     */
    void backlog(List<StoredMessage> rows, boolean complete) {
        if (closed) {
            return;
        }
        List<BusMessage> batch = new ArrayList<>();
        for (StoredMessage row : rows) {
            if (row.id() > lastSent) {
                batch.add(new BusMessage(row.channel(), row.id(), row.createdAt(), row.payload()));
            }
        }
        if (complete) {
            live = true;
            buffered.sort(Comparator.comparingLong(BusMessage::id));
            long newest = batch.isEmpty() ? lastSent : batch.get(batch.size() - 1).id();
            for (BusMessage message : buffered) {
                if (message.id() > newest) {
                    batch.add(message);
                    newest = message.id();
                }
            }
            buffered.clear();
        }
        send(batch);
    }

    private void onLive(BusMessage message) {
        if (closed) {
            return;
        }
        if (!live) {
            buffered.add(message);
        } else if (message.id() > lastSent) {
            send(List.of(message));
        }
    }

    private void send(List<BusMessage> batch) {
        if (!batch.isEmpty()) {
            lastSent = batch.get(batch.size() - 1).id();
            sink.accept(batch);
        }
    }

    void close() {
        if (!closed) {
            closed = true;
            dispatcher.unsubscribe(subscriber);
        }
    }
}
