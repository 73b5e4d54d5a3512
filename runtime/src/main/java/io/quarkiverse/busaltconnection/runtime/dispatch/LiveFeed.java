package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.quarkiverse.busaltconnection.runtime.store.PageReader;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import io.vertx.sqlclient.SqlClient;

/**
 * The new messages of every channel, read once per instance and handed to the HTTP clients (and the Dev UI) that are
 * live, caught up with the head; clients that are behind read their backlog from the table themselves. It reads only
 * while somebody subscribes, and never waits for a subscriber: each keeps a bounded buffer of its own.
 */
public final class LiveFeed extends PageLoop {

    private static final Logger LOG = Logger.getLogger(LiveFeed.class);

    /**
     * Each subscriber, with what it does when the database's history changes. A thousand HTTP clients come and go:
     * removal from a copy-on-write list would be linear per client.
     */
    private final Map<Consumer<BusMessage>, Runnable> subscribers = new ConcurrentHashMap<>();
    private final PageReader pages;
    private final KnownHead knownHead;

    LiveFeed(Vertx vertx, PageReader pages, Supplier<SqlClient> connection, KnownHead knownHead) {
        super(((VertxInternal) vertx).createEventLoopContext(), connection, knownHead, knownHead.get());
        this.pages = pages;
        this.knownHead = knownHead;
    }

    /**
     * {@code subscriber} receives every committed bus message from now on, in position order, on the feed's context:
     * it must not block. It reads its backlog up to at least the head known now ({@link #head()}) itself.
     *
     * @param historyChanged run, on the feed's context, when the database's history changed: positions the subscriber
     *        has are gone, and it must start again (an HTTP client: reload)
     */
    public void subscribe(Consumer<BusMessage> subscriber, Runnable historyChanged) {
        long head = knownHead.get();
        // Added at once, so that an unsubscribe that follows can never run first and leave it behind.
        boolean first = subscribers.isEmpty();
        subscribers.put(subscriber, historyChanged);
        if (first) {
            // Nobody listened, so nothing was read: start from a head the subscriber's backlog covers.
            skipTo(head);
        }
    }

    public void unsubscribe(Consumer<BusMessage> subscriber) {
        subscribers.remove(subscriber);
    }

    /** How many HTTP clients (long-polls waiting, SSE streams) follow the bus on this instance. */
    public int subscribers() {
        return subscribers.size();
    }

    /** The highest position this instance read from the database: where a client without a cursor starts. */
    public long head() {
        return knownHead.get();
    }

    /** The bus's epoch: positions are comparable only within one. */
    public long epoch() {
        return knownHead.epoch();
    }

    @Override
    Future<Page> read(SqlClient client, long after) {
        return pages.ofAll(client, after);
    }

    @Override
    CompletionStage<Void> deliver(StoredMessage stored) {
        BusMessage message = stored.message();
        for (Consumer<BusMessage> subscriber : subscribers.keySet()) {
            try {
                subscriber.accept(message);
            } catch (RuntimeException e) {
                LOG.errorf(e, "An HTTP subscriber failed on message %d of channel '%s'", message.position(),
                        message.channel());
            }
        }
        return DONE;
    }

    /** Tells every subscriber that the database's history changed. */
    void historyChanged() {
        context().runOnContext(ignored -> subscribers.values().forEach(Runnable::run));
    }

    @Override
    String describe() {
        return "The live feed of HTTP clients";
    }

    @Override
    boolean wanted() {
        return !subscribers.isEmpty();
    }
}
