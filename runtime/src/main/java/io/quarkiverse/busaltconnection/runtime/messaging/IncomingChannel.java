package io.quarkiverse.busaltconnection.runtime.messaging;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.function.LongSupplier;

import jakarta.enterprise.invoke.Invoker;

import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.messaging.IncomingBusMetadata;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.dispatch.FailedMessages;
import io.quarkiverse.busaltconnection.runtime.dispatch.GroupDelivery;
import io.quarkiverse.busaltconnection.runtime.dispatch.HandledFailure;
import io.quarkiverse.busaltconnection.runtime.dispatch.ListenerMethod;
import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.BackPressureStrategy;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.smallrye.reactive.messaging.providers.locals.LocalContextMetadata;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * One incoming channel of the connector: to the engine, a listener that it calls with each message of the bus channel
 * in turn, as it calls a {@code @BusListener} method; to Quarkus Messaging, the publisher of those messages. A call
 * hands the message over and completes when the application acknowledged it, so the channel has one message in
 * flight (one per partition in a group), and a later message never overtakes an earlier one. In a group, a failure
 * goes back to the engine, which retries and gives up as the channel's settings say; on a broadcast channel, the
 * failure strategy is applied here.
 */
final class IncomingChannel implements Invoker<Object, Object> {

    private static final Logger LOG = Logger.getLogger(IncomingChannel.class);

    private final IncomingSettings settings;
    private final Vertx vertx;
    private final Bus bus;
    private final ObjectMapper json;
    private final LongSupplier epoch;
    /** Completed when Quarkus Messaging subscribes; messages handed over before wait in its buffer (one each). */
    private final CompletableFuture<MultiEmitter<? super Message<?>>> subscriber = new CompletableFuture<>();
    private final Multi<Message<?>> publisher;
    /** Messages handed over and not yet acknowledged or refused: failed if the channel closes under them. */
    private final Set<CompletableFuture<Void>> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private volatile String stopped;

    IncomingChannel(IncomingSettings settings, Vertx vertx, Bus bus, ObjectMapper json, LongSupplier epoch) {
        this.settings = settings;
        this.vertx = vertx;
        this.bus = bus;
        this.json = json;
        this.epoch = epoch;
        this.publisher = Multi.createFrom().<Message<?>> emitter(emitter -> {
            emitter.onTermination(this::close);
            subscriber.complete(emitter);
        }, BackPressureStrategy.BUFFER);
    }

    IncomingSettings settings() {
        return settings;
    }

    /** The engine's listener for this channel. */
    ListenerMethod listenerMethod() {
        return ListenerMethod.ofChannel(settings.busChannel(), settings.description(), settings.group().orElse(""),
                this, new ListenerMethod.ChannelSettings(settings.groupSettings(), settings.pageSize(),
                        settings.tracingEnabled()));
    }

    Flow.Publisher<Message<?>> publisher() {
        return publisher;
    }

    /**
     * Quarkus Messaging cancelled the channel, or the application stops: the messages in flight fail, so that the
     * engine's worker waiting for one of them returns (a group rolls back, and the message is delivered again later).
     */
    void close() {
        closed = true;
        IllegalStateException gone = new IllegalStateException(settings.description() + " is closed");
        inFlight.forEach(outcome -> outcome.completeExceptionally(gone));
    }

    /** Why the channel stopped ({@code failure-strategy=fail} on a broadcast channel); empty while it runs. */
    Optional<String> stopped() {
        return Optional.ofNullable(stopped);
    }

    /** From the engine: a {@link BusMessage} and, in a group, its {@link GroupDelivery} (else null). */
    @Override
    public Object invoke(Object instance, Object[] arguments) {
        BusMessage message = (BusMessage) arguments[0];
        GroupDelivery delivery = (GroupDelivery) arguments[1];
        if (delivery == null) {
            return broadcast(message, 1);
        }
        return handOver(message, delivery, delivery.attempt()).handle((ignored, failure) -> {
            if (delivery.movedElsewhere() != null) {
                // The application's transaction found another instance delivering: the group reads on from there.
                throw delivery.movedElsewhere();
            }
            if (failure != null) {
                throw failure instanceof CompletionException e ? e : new CompletionException(failure);
            }
            return null;
        });
    }

    /**
     * Hands {@code message} to Quarkus Messaging on a context of its own; completes when it is acknowledged, fails
     * with the reason when it is not. In a group, the first transaction the application begins on that context moves
     * the group's position (see {@link TransactionJoin}).
     */
    private CompletionStage<Void> handOver(BusMessage message, GroupDelivery delivery, int attempt) {
        CompletableFuture<Void> outcome = new CompletableFuture<>();
        inFlight.add(outcome);
        outcome.whenComplete((done, failure) -> inFlight.remove(outcome));
        if (closed) {
            outcome.completeExceptionally(new IllegalStateException(settings.description() + " is closed"));
            return outcome;
        }
        Context current = Vertx.currentContext();
        Context context = VertxContext.createNewDuplicatedContext(current != null ? current : vertx.getOrCreateContext());
        if (delivery != null) {
            context.putLocal(TransactionJoin.DELIVERY, delivery);
        }
        IncomingBusMetadata metadata = new IncomingBusMetadata(message.channel(), message.position(),
                epoch.getAsLong(), message.key(), message.time(), attempt, message.traceparent());
        Message<String> incoming = Message.of(message.payload(),
                Metadata.of(metadata, new LocalContextMetadata(context)),
                () -> {
                    outcome.complete(null);
                    return CompletableFuture.completedFuture(null);
                },
                reason -> {
                    outcome.completeExceptionally(reason != null ? reason
                            : new IllegalStateException("the message was not acknowledged (nack without a reason)"));
                    return CompletableFuture.completedFuture(null);
                });
        subscriber.thenAccept(emitter -> emitter.emit(incoming));
        return outcome;
    }

    /**
     * A broadcast channel's message: retried, then given up as {@code failure-strategy} says. A message given up
     * fails the engine's call with a {@link HandledFailure}, so that it counts as failed and is not logged twice.
     */
    private CompletionStage<Void> broadcast(BusMessage message, int attempt) {
        return handOver(message, null, attempt).handle((ignored, failure) -> failure)
                .thenCompose(failure -> failure == null ? CompletableFuture.completedFuture(null)
                        : failed(message, attempt, failure));
    }

    private CompletionStage<Void> failed(BusMessage message, int attempt, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                : failure;
        if (closed) {
            // Not a failure of the message: the channel stays on it, as the application stops.
            return new CompletableFuture<>();
        }
        ImDispatcherConfig.GroupRetry retry = settings.retry();
        if (attempt < retry.maxAttempts()) {
            long delay = FailedMessages.retryDelayMillis(retry, attempt);
            LOG.warnf("%s failed on message %d of channel '%s' (attempt %d of %d): %s; it tries again in %d ms, later"
                    + " messages waiting", settings.description(), message.position(), message.channel(), attempt,
                    retry.maxAttempts(), FailedMessages.describe(cause), delay);
            CompletableFuture<Void> later = new CompletableFuture<>();
            vertx.setTimer(delay, id -> broadcast(message, attempt + 1).whenComplete((done, givenUp) -> {
                if (givenUp != null) {
                    later.completeExceptionally(givenUp);
                } else {
                    later.complete(null);
                }
            }));
            return later;
        }
        return switch (settings.failure()) {
            case SKIP -> {
                LOG.warnf("%s skipped message %d of channel '%s' after %d attempt(s): %s", settings.description(),
                        message.position(), message.channel(), attempt, FailedMessages.describe(cause));
                yield CompletableFuture.failedFuture(new HandledFailure(cause));
            }
            case DEAD_LETTER -> deadLetter(message, attempt, cause, 1)
                    .thenCompose(sent -> CompletableFuture.failedFuture(new HandledFailure(cause)));
            case STOP -> {
                stopped = "stopped on message " + message.position() + " after " + attempt + " attempt(s): "
                        + FailedMessages.describe(cause);
                LOG.errorf(cause, "%s stopped on message %d of channel '%s' after %d attempt(s) (failure-strategy=%s):"
                        + " it delivers nothing more and readiness is DOWN until the application restarts",
                        settings.description(), message.position(), message.channel(), attempt,
                        settings.failureStrategy());
                // Never completes: the channel's listener stays on this message.
                yield new CompletableFuture<>();
            }
        };
    }

    /** Sends the dead letter in a transaction of its own; tries again until it is written, later messages waiting. */
    private CompletionStage<Void> deadLetter(BusMessage message, int attempts, Throwable cause, int tries) {
        String channel = settings.deadLetterChannel();
        String letter = FailedMessages.deadLetter(json, null, message, cause, attempts);
        return vertx.executeBlocking(() -> {
            bus.send(channel, letter);
            return null;
        }, false).toCompletionStage().handle((done, failure) -> failure).thenCompose(failure -> {
            if (failure == null) {
                LOG.warnf("%s gave message %d of channel '%s' up after %d attempt(s) (%s); it is on channel '%s'",
                        settings.description(), message.position(), message.channel(), attempts,
                        FailedMessages.describe(cause), channel);
                return CompletableFuture.completedFuture(null);
            }
            long delay = FailedMessages.retryDelayMillis(settings.retry(), tries);
            LOG.warnf("%s could not send message %d of channel '%s' to its dead-letter channel '%s' (%s); it tries"
                    + " again in %d ms", settings.description(), message.position(), message.channel(), channel,
                    failure.getMessage(), delay);
            CompletableFuture<Void> later = new CompletableFuture<>();
            vertx.setTimer(delay, id -> deadLetter(message, attempts, cause, tries + 1)
                    .whenComplete((done, again) -> later.complete(null)));
            return later;
        });
    }
}
