package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.quarkiverse.busaltconnection.runtime.store.PageReader;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;

/**
 * One {@code @BusListener}'s place on the bus: the pages of its channel, each message handed to its
 * {@link ListenerInvoker} in turn, on the listener's own context. Plain notifications, for a listener that asked for
 * them, are delivered between pages.
 */
final class ListenerCursor extends PageLoop {

    private static final Logger LOG = Logger.getLogger(ListenerCursor.class);
    static final int MAX_PLAIN_QUEUED = 1000;

    private final ListenerInvoker invoker;
    private final String[] channels;
    private final PageReader pages;
    private final LossLog losses;
    /** Plain NOTIFYs for a listener that asked for them; bounded, the excess dropped. On the context. */
    private final Deque<BusMessage> plain = new ArrayDeque<>();
    private boolean droppingPlain;

    ListenerCursor(ListenerInvoker invoker, PageReader pages, Supplier<SqlClient> connection, LossLog losses,
            KnownHead knownHead) {
        super(invoker.context(), connection, knownHead, knownHead.get());
        this.invoker = invoker;
        this.channels = new String[] { invoker.method().channel };
        this.pages = pages;
        this.losses = losses;
    }

    ListenerMethod method() {
        return invoker.method();
    }

    ListenerInvoker invoker() {
        return invoker;
    }

    @Override
    Future<Page> read(SqlClient client, long after) {
        return pages.onChannels(client, channels, after);
    }

    @Override
    CompletionStage<Void> deliver(StoredMessage message) {
        return invoker.invoke(message.message());
    }

    @Override
    String describe() {
        return invoker.method().label();
    }

    @Override
    void lost(long after, long through) {
        losses.report(describe(), invoker.method().channel, after, through);
    }

    @Override
    CompletionStage<Void> interlude() {
        BusMessage notification = plain.poll();
        return notification == null ? null : invoker.invoke(notification);
    }

    @Override
    boolean interludeFree() {
        return plain.isEmpty();
    }

    /** A plain NOTIFY on the listener's channel, for a listener that asked for those: delivered in turn. */
    void deliverPlain(BusMessage message) {
        context().runOnContext(ignored -> {
            if (plain.size() >= MAX_PLAIN_QUEUED) {
                if (!droppingPlain) {
                    droppingPlain = true;
                    LOG.warnf("%s is more than %d plain notifications behind on channel '%s'; further ones are dropped"
                            + " until it catches up (bus messages are not affected)", describe(), MAX_PLAIN_QUEUED,
                            invoker.method().channel);
                }
                return;
            }
            droppingPlain = false;
            plain.add(message);
            kick();
        });
    }
}
