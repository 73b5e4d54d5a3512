package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.quarkiverse.busaltconnection.runtime.store.PageReader;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.vertx.core.Context;
import io.vertx.sqlclient.SqlClient;

/**
 * One listener's place on the bus, and the loop that moves it: read a page of its channel after its position, call
 * the listener with each message in turn (awaiting each call), move on, read again. At most one page is in memory:
 * a slow listener falls behind and reads its backlog from the table as it drains, however far behind it is. All state
 * is kept on the listener's own context.
 */
final class ListenerCursor {

    private static final Logger LOG = Logger.getLogger(ListenerCursor.class);
    static final int MAX_PLAIN_QUEUED = 1000;

    private final ListenerInvoker invoker;
    private final String[] channels;
    private final PageReader pages;
    private final Supplier<SqlClient> connection;
    private final LossLog losses;
    private final LongConsumer headSeen;
    private final Context context;
    private volatile long position;
    private volatile long head;
    /** Plain NOTIFYs for a listener that asked for them, delivered between pages; bounded, the excess dropped. */
    private final Deque<BusMessage> plain = new ArrayDeque<>();
    /** A page is being read or delivered, or a plain notification delivered. */
    private boolean busy;
    /** Something may have been committed since the last page was read. */
    private boolean woken;
    /** The last page held everything there was. */
    private boolean caughtUp = true;
    private volatile boolean closed;
    private int failures;
    private boolean droppingPlain;
    private volatile long delivered;

    /**
     * @param connection the listening connection (null while it is down)
     * @param headSeen told the head each page was read at (a verified one)
     * @param position deliver messages after this position
     */
    ListenerCursor(ListenerInvoker invoker, PageReader pages, Supplier<SqlClient> connection, LossLog losses,
            LongConsumer headSeen, long position) {
        this.headSeen = headSeen;
        this.invoker = invoker;
        this.channels = new String[] { invoker.method().channel };
        this.pages = pages;
        this.connection = connection;
        this.losses = losses;
        this.context = invoker.context();
        this.position = position;
        this.head = position;
    }

    ListenerMethod method() {
        return invoker.method();
    }

    /** The last position this listener is done with. */
    long position() {
        return position;
    }

    /** Positions between the listener and the head it last saw: 0 when it has everything. */
    long lag() {
        return Math.max(0, head - position);
    }

    long delivered() {
        return delivered;
    }

    /** The bus may have moved (a wake-up, a reconnection, a sweep): read on when idle. Any thread. */
    void wake() {
        context.runOnContext(ignored -> {
            woken = true;
            if (!busy) {
                next();
            }
        });
    }

    /**
     * Messages from {@code before} (exclusive) to {@code head} were numbered by this instance's sequencer, and
     * {@code messages} are all of them on this listener's channel, when known. A listener idle exactly at
     * {@code before} takes them as they are (none: it just moves to {@code head}); any other reads from the table if
     * the run had messages for it.
     */
    void offer(long before, long head, Optional<List<StoredMessage>> messages) {
        context.runOnContext(ignored -> {
            boolean waitingAtBefore = !busy && caughtUp && !woken && failures == 0 && plain.isEmpty()
                    && position == before && !closed;
            if (waitingAtBefore && messages.isPresent()) {
                this.head = Math.max(this.head, head);
                List<StoredMessage> mine = messages.get();
                if (mine.isEmpty()) {
                    position = head;
                    return;
                }
                busy = true;
                deliver(mine, 0).whenComplete((ignored2, failure) -> context.runOnContext(ignored3 -> {
                    position = Math.max(position, head);
                    busy = false;
                    next();
                }));
            } else if (messages.isEmpty() || !messages.get().isEmpty()) {
                woken = true;
                if (!busy) {
                    next();
                }
            }
        });
    }

    /** The sweep: a cursor whose last read failed reads again (no wake-up may come while nothing new is sent). */
    void retryIfFailed() {
        context.runOnContext(ignored -> {
            if (failures > 0 && !busy) {
                woken = true;
                next();
            }
        });
    }

    /** A plain NOTIFY on the listener's channel, for a listener that asked for those: delivered in turn. */
    void deliverPlain(BusMessage message) {
        context.runOnContext(ignored -> {
            if (plain.size() >= MAX_PLAIN_QUEUED) {
                if (!droppingPlain) {
                    droppingPlain = true;
                    LOG.warnf("@BusListener %s is more than %d plain notifications behind on channel '%s'; further"
                            + " ones are dropped until it catches up (bus messages are not affected)",
                            invoker.method().description, MAX_PLAIN_QUEUED, invoker.method().channel);
                }
                return;
            }
            droppingPlain = false;
            plain.add(message);
            if (!busy) {
                next();
            }
        });
    }

    private void next() {
        if (closed) {
            return;
        }
        BusMessage notification = plain.poll();
        if (notification != null) {
            busy = true;
            invoker.invoke(notification).whenComplete((ignored, failure) -> context.runOnContext(ignored2 -> {
                busy = false;
                next();
            }));
        } else if (woken || !caughtUp) {
            read();
        }
    }

    void close() {
        context.runOnContext(ignored -> closed = true);
    }

    private void read() {
        SqlClient client = connection.get();
        if (client == null) {
            // Disconnected: the reconnection wakes every cursor.
            woken = false;
            return;
        }
        busy = true;
        woken = false;
        long after = position;
        pages.onChannels(client, channels, after).onComplete(result -> context.runOnContext(ignored -> {
            if (result.failed()) {
                busy = false;
                caughtUp = true;
                // A lost connection fails one read (ListenerConnection says so, and its return wakes this cursor);
                // only a read that fails again is worth a warning.
                if (failures++ == 1) {
                    LOG.warnf("@BusListener %s could not read the bus after position %d (%s); it reads again on the"
                            + " next wake-up, sweep or reconnection", invoker.method().description, after,
                            result.cause().getMessage());
                } else {
                    LOG.debugf("@BusListener %s could not read the bus after position %d: %s",
                            invoker.method().description, after, result.cause().getMessage());
                }
                return;
            }
            failures = 0;
            Page page = result.result();
            head = Math.max(head, page.head());
            headSeen.accept(page.head());
            page.lostAfter(after).ifPresent(through -> losses.report("@BusListener " + invoker.method().description,
                    invoker.method().channel, after, through));
            deliver(page.messages(), 0).whenComplete((ignored2, failure) -> context.runOnContext(ignored3 -> {
                position = Math.max(position, page.positionAfter(after));
                caughtUp = page.complete();
                busy = false;
                next();
            }));
        }));
    }

    private CompletionStage<Void> deliver(List<StoredMessage> messages, int index) {
        if (index == messages.size() || closed) {
            return CompletableFuture.completedFuture(null);
        }
        StoredMessage stored = messages.get(index);
        BusMessage message = stored.message();
        return invoker.invoke(message).thenCompose(ignored -> {
            position = stored.position();
            delivered++;
            return deliver(messages, index + 1);
        });
    }
}
