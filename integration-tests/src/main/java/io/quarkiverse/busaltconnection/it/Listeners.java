package io.quarkiverse.busaltconnection.it;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.common.annotation.RunOnVirtualThread;
import io.smallrye.mutiny.Uni;

/**
 * The demo's listeners. No scope annotation: the extension makes the class a singleton bean.
 */
public class Listeners {

    @Inject
    Inbox inbox;

    /** The payload as text, with the message's metadata. */
    @BusListener("greetings")
    void greeting(String text, BusMessage message) {
        Log.infof("greetings: '%s' (position %d)", text, message.position());
        inbox.add("greetings", text + "@" + message.channel() + "#" + message.position());
    }

    /** The payload read from JSON into a record. */
    @BusListener("orders")
    void order(Order order) {
        inbox.add("orders", order.id() + ":" + order.item());
    }

    /** A second listener of the same channel, on the event loop, asynchronous. */
    @BusListener("orders")
    @NonBlocking
    Uni<Void> orderAudit(BusMessage message) {
        inbox.add("orders-audit", message.payload());
        return Uni.createFrom().voidItem();
    }

    /** Notifications sent by anything else: psql, a trigger (opted in: they are unauthenticated). */
    @BusListener(value = "external", plainNotifications = true)
    void external(String text) {
        inbox.add("external", text);
    }

    /** Any channel name, any payload size: records a digest rather than the payload. */
    @BusListener(Channels.WEIRD)
    void weird(String payload, BusMessage message) {
        inbox.add("weird", (message.channel().equals(Channels.WEIRD) ? "channel-intact" : "channel-damaged") + ":"
                + payload.length() + ":" + Digests.sha256(payload));
    }

    /** Numbered messages, on a worker thread. */
    @BusListener(Channels.SEQUENCE)
    void sequence(String payload) {
        inbox.add("sequence", payload);
    }

    /** The same numbered messages, on the event loop. */
    @BusListener(Channels.SEQUENCE)
    @NonBlocking
    void sequenceOnEventLoop(String payload) {
        inbox.add("sequence-event-loop", payload);
    }

    /** The same numbered messages, on a virtual thread (JDK 21+; Quarkus's fallback executor on JDK 17). */
    @BusListener(Channels.SEQUENCE)
    @RunOnVirtualThread
    void sequenceOnVirtualThread(String payload) {
        inbox.add("sequence-virtual-thread", payload);
    }

    /** Blocks until the test opens the gate: other listeners must not wait for it. */
    @BusListener("slow")
    void slow(String payload) throws InterruptedException {
        inbox.add("slow-started", payload);
        SlowGate.await();
        inbox.add("slow", payload);
    }

    /** Backslashes in a channel name. */
    @BusListener("back\\slash\\channel")
    void backslashes(String payload) {
        inbox.add("backslashes", payload.length() + ":" + Digests.sha256(payload));
    }

    /** Records each payload with its position, for the ordering checks of concurrent senders. */
    @BusListener(Channels.CONCURRENCY)
    void concurrency(String payload, BusMessage message) {
        inbox.add("concurrency", payload + "#" + message.position());
    }

    /**
     * Finishes each message later, on another thread: the next message must not start before the returned stage
     * completed.
     */
    @BusListener("awaited")
    CompletionStage<Void> awaited(String payload) {
        if (awaitedInFlight.incrementAndGet() > 1) {
            inbox.add("awaited-overlap", payload);
        }
        return CompletableFuture.runAsync(() -> {
            inbox.add("awaited", payload);
            awaitedInFlight.decrementAndGet();
        }, CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS));
    }

    private final AtomicInteger awaitedInFlight = new AtomicInteger();

    /** A channel from configuration (demo.expression-channel in application.properties). */
    @BusListener("${demo.expression-channel}")
    void expressed(String payload, BusMessage message) {
        inbox.add("expressed", message.channel() + ":" + payload);
    }

    /** Throws on payloads starting with "boom": the bus must carry on. */
    @BusListener("fragile")
    void fragile(String text) {
        inbox.add("fragile", text);
        if (text.startsWith("boom")) {
            throw new IllegalStateException("listener failure on purpose: " + text);
        }
    }
}
