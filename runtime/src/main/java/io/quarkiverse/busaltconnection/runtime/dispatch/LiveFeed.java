package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.quarkiverse.busaltconnection.runtime.store.PageReader;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import io.vertx.sqlclient.SqlClient;

/**
 * The new messages of every channel, read once per instance and handed to the HTTP clients that are live (caught up
 * with the head); clients that are behind read their backlog from the table themselves. It reads only while somebody
 * subscribes, a page at a time, and never waits for a subscriber: each keeps a bounded buffer of its own.
 */
final class LiveFeed {

    private static final Logger LOG = Logger.getLogger(LiveFeed.class);

    /** A thousand HTTP clients come and go: removal from a copy-on-write list would be linear per client. */
    private final Set<Consumer<BusMessage>> subscribers = ConcurrentHashMap.newKeySet();
    private final PageReader pages;
    private final Supplier<SqlClient> connection;
    private final Context context;
    private final LongConsumer headSeen;
    private volatile long position;
    private boolean busy;
    private boolean woken;
    private boolean caughtUp = true;

    LiveFeed(Vertx vertx, PageReader pages, Supplier<SqlClient> connection, LongConsumer headSeen, long position) {
        this.headSeen = headSeen;
        this.pages = pages;
        this.connection = connection;
        this.context = ((VertxInternal) vertx).createEventLoopContext();
        this.position = position;
    }

    /**
     * {@code subscriber} receives every message after the position the feed had when it subscribed and that
     * {@code head} bounds from below, on the feed's context: it must not block.
     *
     * @param head a head read before this call: the subscriber reads its backlog up to at least there itself
     */
    void subscribe(Consumer<BusMessage> subscriber, long head) {
        // Added at once, so that an unsubscribe that follows can never run first and leave it behind.
        boolean first = subscribers.isEmpty();
        subscribers.add(subscriber);
        if (first) {
            // Nobody listened, so nothing was read: start from a head the subscriber's backlog covers.
            context.runOnContext(ignored -> position = Math.max(position, head));
        }
    }

    void unsubscribe(Consumer<BusMessage> subscriber) {
        subscribers.remove(subscriber);
    }

    int subscribers() {
        return subscribers.size();
    }

    void wake() {
        context.runOnContext(ignored -> {
            woken = true;
            if (!busy) {
                next();
            }
        });
    }

    private void next() {
        if (subscribers.isEmpty() || !(woken || !caughtUp)) {
            return;
        }
        SqlClient client = connection.get();
        if (client == null) {
            woken = false;
            return;
        }
        busy = true;
        woken = false;
        long after = position;
        pages.ofAll(client, after).onComplete(result -> context.runOnContext(ignored -> {
            busy = false;
            if (result.failed()) {
                caughtUp = true;
                LOG.debugf("Reading new bus messages for HTTP clients failed: %s", result.cause().getMessage());
                return;
            }
            Page page = result.result();
            headSeen.accept(page.head());
            for (StoredMessage stored : page.messages()) {
                BusMessage message = stored.message();
                for (Consumer<BusMessage> subscriber : subscribers) {
                    try {
                        subscriber.accept(message);
                    } catch (RuntimeException e) {
                        LOG.errorf(e, "An HTTP subscriber failed on message %d of channel '%s'", message.position(),
                                message.channel());
                    }
                }
            }
            position = Math.max(position, page.positionAfter(after));
            caughtUp = page.complete();
            next();
        }));
    }
}
