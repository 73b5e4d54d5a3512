package io.quarkiverse.busaltconnection.runtime.messaging;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkiverse.busaltconnection.messaging.OutgoingBusMetadata;
import io.quarkiverse.busaltconnection.runtime.send.Outgoing;
import io.quarkiverse.busaltconnection.runtime.send.PooledBus;
import io.quarkus.runtime.BlockingOperationControl;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Vertx;

/**
 * One outgoing channel of the connector: each message is sent on its bus channel, as {@code Bus.send} does. A message
 * sent where a JTA transaction is active ({@code Emitter.send} in a {@code @Transactional} method) is written in that
 * transaction ({@link #inSenderTransaction}): acknowledged when it commits, not acknowledged when it rolls back. Any
 * other is written by the channel's writer, in order, the messages waiting for it in one statement (a transaction of
 * its own), and acknowledged once committed. Demand is unbounded, so that each message comes on its sender's thread,
 * in its sender's transaction; what bounds memory is {@code max-inflight-messages}, the messages waiting for the
 * writer: beyond it a sender waits for room when it may block, and else the message is not acknowledged, with an error
 * that says so. A message the writer sends is sent in its sender's trace context, taken on the sender's thread.
 */
final class OutgoingChannel implements Flow.Subscriber<Message<?>> {

    private static final Logger LOG = Logger.getLogger(OutgoingChannel.class);
    /** Most messages the writer writes in one statement. */
    static final int BATCH = 256;
    /** The longest a sender waits for room among the messages waiting for the writer. */
    static final Duration MAX_BLOCK = Duration.ofSeconds(60);

    private final String name;
    private final String busChannel;
    private final int maxInflight;
    /** {@code tracing-enabled}: false sends every message outside any trace, so that it gets no producer span. */
    private final boolean traced;
    private final PooledBus bus;
    private final TransactionSynchronizationRegistry transactions;
    private final Vertx vertx;
    /** Messages waiting for the writer, in the order they came; guarded by itself. */
    private final ArrayDeque<Message<?>> waiting = new ArrayDeque<>();
    private boolean writing;
    private volatile Throwable upstreamFailure;

    OutgoingChannel(String name, String busChannel, int maxInflight, boolean traced, PooledBus bus,
            TransactionSynchronizationRegistry transactions, Vertx vertx) {
        this.name = name;
        this.busChannel = busChannel;
        this.maxInflight = maxInflight;
        this.traced = traced;
        this.bus = bus;
        this.transactions = transactions;
        this.vertx = vertx;
    }

    String name() {
        return name;
    }

    /** Why the channel's upstream ended with a failure; null while it runs. */
    Throwable upstreamFailure() {
        return upstreamFailure;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        subscription.request(Long.MAX_VALUE);
    }

    /**
     * On the sender's thread, before Quarkus Messaging clears its transaction for the connector (see
     * {@link SenderTransactions}): a message sent in an active transaction is written in it, and acknowledged when it
     * commits, not when it rolls back. Returns the message, marked when it was written here, else carrying the
     * sender's trace context for the writer.
     */
    Message<?> inSenderTransaction(Message<?> message) {
        if (transactions.getTransactionStatus() != Status.STATUS_ACTIVE) {
            return traced ? message.addMetadata(new SenderTrace(Context.current())) : message;
        }
        try {
            send(message);
        } catch (RuntimeException e) {
            return refused(message, e);
        }
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {
            }

            @Override
            public void afterCompletion(int outcome) {
                if (outcome == Status.STATUS_COMMITTED) {
                    message.ack();
                } else {
                    message.nack(new BusException("The transaction that sent the message on channel '" + busChannel
                            + "' rolled back: the message was not sent", null));
                }
            }
        });
        return message.addMetadata(WrittenInTransaction.INSTANCE);
    }

    @Override
    public void onNext(Message<?> message) {
        if (message.getMetadata(WrittenInTransaction.class).isPresent()) {
            return;
        }
        if (transactions.getTransactionStatus() == Status.STATUS_NO_TRANSACTION) {
            enqueue(message);
            return;
        }
        // A transaction that completes (a send from beforeCompletion): Bus.send writes in it, or on its own.
        try {
            send(message);
            message.ack();
        } catch (RuntimeException e) {
            message.nack(e);
        }
    }

    /** Nacks {@code message} with {@code failure}; returns it marked, so that the channel does not write it. */
    static Message<?> refused(Message<?> message, Throwable failure) {
        message.nack(failure);
        return message.addMetadata(WrittenInTransaction.INSTANCE);
    }

    /** Marks a message {@link #inSenderTransaction} took care of. */
    private enum WrittenInTransaction {
        INSTANCE
    }

    /** The trace context a message was sent in, for a write on another thread. */
    private record SenderTrace(Context context) {
    }

    @Override
    public void onError(Throwable failure) {
        upstreamFailure = failure;
        LOG.errorf(failure, "The outgoing channel '%s' of the %s connector received a failure from its upstream;"
                + " it sends nothing more", name, BusConnector.NAME);
    }

    @Override
    public void onComplete() {
        // Messages waiting are still written.
    }

    /** Sends {@code message} with {@code Bus.send}: in the current transaction if there is one. */
    private void send(Message<?> message) {
        try (Scope scope = traceOf(message).makeCurrent()) {
            bus.send(busChannel, keyOf(message), payloadOf(message));
        }
    }

    /** {@code message} checked and encoded for the bus channel, in its trace context. */
    private Outgoing prepare(Message<?> message) {
        try (Scope scope = traceOf(message).makeCurrent()) {
            return bus.prepare(busChannel, keyOf(message), payloadOf(message));
        }
    }

    /** The sender's trace context, or none when {@code tracing-enabled} is false. */
    private Context traceOf(Message<?> message) {
        return traced ? message.getMetadata(SenderTrace.class).map(SenderTrace::context)
                .orElseGet(Context::current) : Context.root();
    }

    private static String keyOf(Message<?> message) {
        return message.getMetadata(OutgoingBusMetadata.class).map(OutgoingBusMetadata::key).orElse(null);
    }

    private Object payloadOf(Message<?> message) {
        Object payload = message.getPayload();
        if (payload == null) {
            throw new IllegalArgumentException("A message on the outgoing channel '" + name + "' has no payload;"
                    + " send a String (sent as it is) or an object (sent as JSON)");
        }
        return payload;
    }

    /**
     * Queues {@code message} for the writer. When {@code max-inflight-messages} wait already, a sender that may block
     * (a worker or virtual thread, an {@code @Outgoing} method's stream pulled by one) waits for room, up to
     * {@link #MAX_BLOCK}: that is the channel's back-pressure. One that may not (an event loop), or that waited that
     * long, gets the message not acknowledged, with an error that says why; nothing is dropped unsaid.
     */
    private void enqueue(Message<?> message) {
        boolean full;
        boolean start = false;
        synchronized (waiting) {
            full = waiting.size() >= maxInflight;
            if (full && BlockingOperationControl.isBlockingAllowed()) {
                long deadline = System.nanoTime() + MAX_BLOCK.toNanos();
                try {
                    for (long left = MAX_BLOCK.toNanos(); full && left > 0; left = deadline - System.nanoTime()) {
                        TimeUnit.NANOSECONDS.timedWait(waiting, left);
                        full = waiting.size() >= maxInflight;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (!full) {
                waiting.add(message);
                start = !writing;
                writing = true;
            }
        }
        if (full) {
            message.nack(new BusException("The outgoing channel '" + name + "' of the " + BusConnector.NAME
                    + " connector has " + maxInflight + " messages waiting to be written; this one is not sent ("
                    + (BlockingOperationControl.isBlockingAllowed() ? "no room came within " + MAX_BLOCK.toSeconds()
                            + " s" : "a sender on the event loop cannot wait for room")
                    + "). Raise mp.messaging.outgoing." + name + ".max-inflight-messages, or send fewer at once",
                    null));
        } else if (start) {
            // In a context of its own: the writer writes for every sender, so it must not run in this one's.
            io.vertx.core.Context current = Vertx.currentContext();
            VertxContext.createNewDuplicatedContext(current != null ? current : vertx.getOrCreateContext())
                    .executeBlocking(() -> {
                        writeWaiting();
                        return null;
                    }, false);
        }
    }

    /** On a worker: writes batches until nothing waits. */
    private void writeWaiting() {
        while (true) {
            List<Message<?>> batch = new ArrayList<>();
            synchronized (waiting) {
                while (batch.size() < BATCH && !waiting.isEmpty()) {
                    batch.add(waiting.poll());
                }
                // Room for the senders that wait for it.
                waiting.notifyAll();
                if (batch.isEmpty()) {
                    writing = false;
                    return;
                }
            }
            write(batch);
        }
    }

    /**
     * The batch in one statement outside any transaction, as {@code Bus.send} writes a lone message (a transaction of
     * its own, one round trip, no JTA transaction around it); if that fails, each message alone, to tell which fail. A
     * message that cannot be sent (a payload that is not JSON) is not acknowledged, and the others go on.
     */
    private void write(List<Message<?>> batch) {
        List<Message<?>> sendable = new ArrayList<>(batch.size());
        List<Outgoing> prepared = new ArrayList<>(batch.size());
        for (Message<?> message : batch) {
            try {
                prepared.add(prepare(message));
                sendable.add(message);
            } catch (RuntimeException e) {
                message.nack(e);
            }
        }
        if (sendable.isEmpty()) {
            return;
        }
        try {
            bus.writeTogether(prepared);
            sendable.forEach(Message::ack);
            return;
        } catch (RuntimeException e) {
            if (sendable.size() == 1) {
                sendable.get(0).nack(e);
                return;
            }
        }
        for (int i = 0; i < sendable.size(); i++) {
            try {
                bus.writeTogether(List.of(prepared.get(i)));
                sendable.get(i).ack();
            } catch (RuntimeException e) {
                sendable.get(i).nack(e);
            }
        }
    }
}
