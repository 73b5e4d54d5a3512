package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;

/**
 * A reader's place on the bus and the loop that moves it: read a page after its position, hand the messages over one
 * by one (awaiting each), move on, read again while there may be more. At most one page is in memory: a slow reader
 * falls behind and reads its backlog from the table as it drains, however far behind it is. All state is kept on the
 * reader's own context. The two readers are a {@code @BusListener}'s {@link ListenerCursor} and the HTTP clients'
 * {@link LiveFeed}.
 */
abstract class PageLoop {

    private static final Logger LOG = Logger.getLogger(PageLoop.class);
    static final CompletionStage<Void> DONE = CompletableFuture.completedFuture(null);

    private final Context context;
    private final Supplier<SqlClient> connection;
    private final KnownHead knownHead;
    private volatile long position;
    private volatile long head;
    /** A page is being read or delivered, or an {@link #interlude()} runs. */
    private boolean busy;
    /** Something may have been committed since the last page was read. */
    private boolean woken;
    /** The last page held everything there was. */
    private boolean caughtUp = true;
    private volatile boolean closed;
    private int failures;
    /** Moves on at every change of the database's history: what was read before belongs to the old one. */
    private volatile int generation;

    /**
     * @param connection the listening connection (null while it is down)
     * @param position deliver messages after this position
     */
    PageLoop(Context context, Supplier<SqlClient> connection, KnownHead knownHead, long position) {
        this.context = context;
        this.connection = connection;
        this.knownHead = knownHead;
        this.position = position;
        this.head = position;
    }

    /** Reads the page after {@code after} that this reader wants. */
    abstract Future<Page> read(SqlClient client, long after);

    /** Hands one message over; the next waits for the returned stage. */
    abstract CompletionStage<Void> deliver(StoredMessage message);

    /** Who reads, for log lines. */
    abstract String describe();

    /** Retention deleted positions after {@code after} through {@code through} before this reader read them. */
    void lost(long after, long through) {
    }

    /** Whether reading is worth it now (the live feed reads only while somebody follows it). */
    boolean wanted() {
        return true;
    }

    /** Work that goes before the next page (a listener's plain notifications), or null. */
    CompletionStage<Void> interlude() {
        return null;
    }

    final Context context() {
        return context;
    }

    /** The last position this reader is done with. */
    final long position() {
        return position;
    }

    /** Positions between the reader and the head it last saw: 0 when it has everything. */
    final long lag() {
        return Math.max(0, head - position);
    }

    /** The bus may have moved (a wake-up, a reconnection, a sweep): read on when idle. Any thread. */
    final void wake() {
        context.runOnContext(ignored -> {
            woken = true;
            kick();
        });
    }

    /**
     * The head read from the database is {@code head}: read on, unless this reader is idle there already (then the hint
     * or sweep that caused the read moved nothing for it). Any thread.
     */
    final void wakeBelow(long head) {
        context.runOnContext(ignored -> {
            if (!busy && caughtUp && !woken && failures == 0 && position >= head) {
                this.head = Math.max(this.head, head);
                return;
            }
            woken = true;
            kick();
        });
    }

    /**
     * Messages from {@code before} (exclusive) to {@code head} were numbered by this instance's sequencer, and
     * {@code messages} are all of them this reader wants, when known. A reader idle exactly at {@code before} takes
     * them as they are (none: it just moves to {@code head}); any other reads from the table if the run had messages
     * for it. Any thread.
     */
    final void offer(long before, long head, Optional<List<StoredMessage>> messages) {
        context.runOnContext(ignored -> {
            boolean waitingAtBefore = !busy && caughtUp && !woken && failures == 0 && position == before && !closed
                    && interludeFree();
            if (waitingAtBefore && messages.isPresent()) {
                this.head = Math.max(this.head, head);
                if (messages.get().isEmpty()) {
                    position = head;
                    return;
                }
                busy = true;
                int offeredIn = generation;
                deliver(messages.get(), 0, offeredIn).whenComplete((ignored2, failure) -> context.runOnContext(
                        ignored3 -> {
                            if (offeredIn == generation) {
                                position = Math.max(position, head);
                            }
                            busy = false;
                            next();
                        }));
            } else if (messages.isEmpty() || !messages.get().isEmpty()) {
                woken = true;
                kick();
            }
        });
    }

    /** Whether no {@link #interlude()} waits; subclasses with one say so. */
    boolean interludeFree() {
        return true;
    }

    /** The sweep: a reader whose last read failed reads again (no wake-up may come while nothing new is sent). */
    final void retryIfFailed() {
        context.runOnContext(ignored -> {
            if (failures > 0 && !busy) {
                woken = true;
                next();
            }
        });
    }

    /**
     * The database's history changed: positions after {@code head} are gone and will be handed out again. A reader
     * past it goes back to it; a page read or delivered meanwhile is not taken into account. Any thread.
     */
    final void rewind(long head) {
        context.runOnContext(ignored -> {
            generation++;
            position = Math.min(position, head);
            this.head = head;
            caughtUp = false;
            woken = true;
            kick();
        });
    }

    /** Starts no earlier than after {@code position}. Any thread. */
    final void skipTo(long position) {
        context.runOnContext(ignored -> this.position = Math.max(this.position, position));
    }

    /** Moves on if idle; on the context. */
    final void kick() {
        if (!busy) {
            next();
        }
    }

    final void close() {
        context.runOnContext(ignored -> closed = true);
    }

    private void next() {
        if (closed) {
            return;
        }
        CompletionStage<Void> before = interlude();
        if (before != null) {
            busy = true;
            before.whenComplete((ignored, failure) -> context.runOnContext(ignored2 -> {
                busy = false;
                next();
            }));
        } else if ((woken || !caughtUp) && wanted()) {
            read();
        }
    }

    private void read() {
        SqlClient client = connection.get();
        if (client == null) {
            // Disconnected: the reconnection wakes every reader.
            woken = false;
            return;
        }
        busy = true;
        woken = false;
        long after = position;
        int readIn = generation;
        read(client, after).onComplete(result -> context.runOnContext(ignored -> {
            if (readIn != generation) {
                // Read in a history that is gone: read again.
                busy = false;
                next();
                return;
            }
            if (result.failed()) {
                busy = false;
                caughtUp = true;
                // A lost connection fails one read (ListenerConnection says so, and its return wakes this reader);
                // only a read that fails again is worth a warning.
                if (failures++ == 1) {
                    LOG.warnf("%s could not read the bus after position %d (%s); it reads again on the next wake-up,"
                            + " sweep or reconnection", describe(), after, result.cause().getMessage());
                } else {
                    LOG.debugf("%s could not read the bus after position %d: %s", describe(), after,
                            result.cause().getMessage());
                }
                if (!interludeFree()) {
                    // What queued meanwhile (plain notifications) needs no read: it goes now, not at the next wake-up.
                    next();
                }
                return;
            }
            failures = 0;
            Page page = result.result();
            head = Math.max(head, page.head());
            knownHead.seen(page.head());
            page.lostAfter(after).ifPresent(through -> lost(after, through));
            deliver(page.messages(), 0, readIn).whenComplete((ignored2, failure) -> context.runOnContext(ignored3 -> {
                if (readIn == generation) {
                    position = Math.max(position, page.positionAfter(after));
                    caughtUp = page.complete();
                }
                busy = false;
                next();
            }));
        }));
    }

    private CompletionStage<Void> deliver(List<StoredMessage> messages, int index, int readIn) {
        if (index == messages.size() || closed || readIn != generation) {
            return DONE;
        }
        StoredMessage message = messages.get(index);
        return deliver(message).thenCompose(ignored -> {
            if (readIn == generation) {
                position = message.position();
            }
            return deliver(messages, index + 1, readIn);
        });
    }
}
