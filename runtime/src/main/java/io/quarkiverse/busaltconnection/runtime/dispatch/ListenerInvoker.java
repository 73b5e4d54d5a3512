package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import jakarta.enterprise.invoke.Invoker;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.observe.ListenerCall;
import io.quarkus.arc.Arc;
import io.quarkus.arc.InjectableContext.ContextState;
import io.quarkus.arc.ManagedContext;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;

/**
 * Calls one listener method with one message, on the thread kind the method asked for, and tells when the call is
 * over, including the {@code Uni} or {@code CompletionStage} it returned. Whatever the method or its payload does, the
 * failure stays here (logged with the listener and position) and the returned stage completes normally, so one failed
 * delivery never ends the listener's chain.
 */
final class ListenerInvoker {

    private static final Logger LOG = Logger.getLogger(ListenerInvoker.class);

    private final ListenerMethod method;
    private final Invoker<Object, Object> invoker;
    private final ObjectMapper objectMapper;
    private final JavaType payloadType;
    /**
     * Each listener has a context of its own, as {@code @ConsumeEvent} consumers do: one slow listener does not hold up
     * the event loop of another.
     */
    private final Context context;
    private final Executor virtualThreads;
    private final BusObservers observers;
    private final LongAdder succeeded = new LongAdder();
    private final LongAdder failed = new LongAdder();

    /**
     * @param virtualThreads asked for only by {@code @RunOnVirtualThread} listeners: creating the executor on a JDK
     *        without virtual threads logs a warning, which other applications should not see
     */
    ListenerInvoker(ListenerMethod method, ObjectMapper objectMapper, Vertx vertx, Supplier<Executor> virtualThreads,
            BusObservers observers) {
        this.method = method;
        this.observers = observers;
        this.invoker = method.invoker.getValue();
        this.objectMapper = objectMapper;
        this.payloadType = method.payloadType.isEmpty() ? null
                : objectMapper.getTypeFactory().constructFromCanonical(method.payloadType);
        this.context = ((VertxInternal) vertx).createEventLoopContext();
        this.virtualThreads = method.executionModel == ExecutionModel.VIRTUAL_THREAD ? virtualThreads.get() : null;
    }

    ListenerMethod method() {
        return method;
    }

    /** The listener's own event loop context: where its cursor keeps its state. */
    Context context() {
        return context;
    }

    /** Calls the method with {@code message}; the stage completes when the call and its async result are over. */
    CompletionStage<Void> invoke(BusMessage message) {
        // A fresh duplicated context per message, like an event-bus delivery: safe for Hibernate Reactive & co.
        Context messageContext = VertxContext.createNewDuplicatedContext(context);
        VertxContextSafetyToggle.setContextSafe(messageContext, true);
        // Completed with whether the call succeeded.
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        Instant started = Instant.now();
        switch (method.executionModel) {
            case NON_BLOCKING -> messageContext.runOnContext(ignored -> call(message, done));
            case BLOCKING -> messageContext.executeBlocking(() -> {
                call(message, done);
                return null;
            }, false);
            // Quarkus's virtual-thread executor carries the context current at execute() into the virtual thread.
            case VIRTUAL_THREAD -> messageContext.runOnContext(ignored -> {
                try {
                    virtualThreads.execute(() -> call(message, done));
                } catch (RuntimeException e) {
                    logFailure(message, e);
                    done.complete(false);
                }
            });
        }
        return done.thenAccept(success -> {
            (success ? succeeded : failed).increment();
            observers.delivered(message.channel(), method.description, success,
                    Duration.between(message.time(), started), Duration.between(started, Instant.now()));
        });
    }

    /** What must happen with a group member's call, in one transaction: the call, then the move of its position. */
    @FunctionalInterface
    interface Around {
        void run(Callable<Object> call) throws Exception;
    }

    /**
     * For a group member: runs {@code work} on a worker thread (a virtual thread for {@code @RunOnVirtualThread}
     * methods), where it calls {@link #callAround} for one message after another with no hand-off in between. The
     * stage completes with what {@code work} returned or threw.
     */
    <T> CompletionStage<T> onWorker(Callable<T> work) {
        CompletableFuture<T> done = new CompletableFuture<>();
        Runnable task = () -> {
            try {
                done.complete(work.call());
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        };
        if (method.executionModel == ExecutionModel.VIRTUAL_THREAD) {
            context.runOnContext(ignored -> virtualThreads.execute(task));
        } else {
            context.executeBlocking(() -> {
                task.run();
                return null;
            }, false);
        }
        return done;
    }

    /**
     * For a group member, on the thread {@link #onWorker} gave: calls the method with {@code message} inside
     * {@code around} (which opens the transaction, makes the call, and moves the group's position in it), in a fresh
     * duplicated context of its own, as an event-bus delivery has. Throws what the call or {@code around} threw;
     * nothing is logged here, the group decides what a failure means.
     */
    void callAround(BusMessage message, GroupDelivery delivery, Around around) throws Exception {
        ContextInternal messageContext = (ContextInternal) VertxContext.createNewDuplicatedContext(context);
        VertxContextSafetyToggle.setContextSafe(messageContext, true);
        Instant started = Instant.now();
        boolean success = false;
        ContextInternal previous = messageContext.beginDispatch();
        try {
            around.run(() -> callHere(message, delivery));
            success = true;
        } finally {
            messageContext.endDispatch(previous);
            (success ? succeeded : failed).increment();
            observers.delivered(message.channel(), method.description, success,
                    Duration.between(message.time(), started), Duration.between(started, Instant.now()));
        }
    }

    /**
     * Calls the method on this thread, which may block, and waits for its {@code Uni} or {@code CompletionStage}; the
     * call's failure, or its result's, is thrown.
     */
    private Object callHere(BusMessage message, GroupDelivery delivery) throws Exception {
        Object[] arguments = arguments(message, delivery);
        ManagedContext requestContext = Arc.container().requestContext();
        boolean activated = !requestContext.isActive();
        if (activated) {
            requestContext.activate();
        }
        ListenerCall observed = method.traced() ? observers.calling(message, method.description) : ListenerCall.NONE;
        try (ListenerCall.Current current = observed.makeCurrent()) {
            Object result = invoker.invoke(null, arguments);
            if (result instanceof CompletionStage<?> stage) {
                result = stage.toCompletableFuture().join();
            }
            observed.ended(null);
            return result;
        } catch (CompletionException e) {
            observed.ended(e.getCause());
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (Exception e) {
            observed.ended(e);
            throw e;
        } finally {
            if (activated) {
                requestContext.terminate();
            }
        }
    }

    /** Calls that returned (and whose {@code Uni} or {@code CompletionStage} completed) normally. */
    long succeeded() {
        return succeeded.sum();
    }

    /** Calls that threw, failed, or could not be made because the payload did not fit the parameter. */
    long failed() {
        return failed.sum();
    }

    private void call(BusMessage message, CompletableFuture<Boolean> done) {
        Object[] arguments;
        try {
            arguments = arguments(message, null);
        } catch (Exception e) {
            LOG.errorf("%s cannot read message %d of channel '%s' as %s: %s. The message is skipped"
                    + " for this listener; send a payload of that shape, or take the payload as String.",
                    method.label(), message.position(), message.channel(), method.payloadType, e.getMessage());
            done.complete(false);
            return;
        }
        ManagedContext requestContext = Arc.container().requestContext();
        boolean activated = !requestContext.isActive();
        if (activated) {
            requestContext.activate();
        }
        ListenerCall observed = method.traced() ? observers.calling(message, method.description) : ListenerCall.NONE;
        Object result;
        try (ListenerCall.Current current = observed.makeCurrent()) {
            result = invoker.invoke(null, arguments);
        } catch (Throwable e) {
            if (activated) {
                requestContext.terminate();
            }
            logFailure(message, e);
            observed.ended(e);
            done.complete(false);
            return;
        }
        if (result instanceof CompletionStage<?> stage) {
            ContextState state = activated ? requestContext.getState() : null;
            if (activated) {
                requestContext.deactivate();
            }
            stage.whenComplete((ignored, failure) -> {
                if (state != null) {
                    requestContext.destroy(state);
                }
                if (failure != null) {
                    logFailure(message, failure);
                }
                observed.ended(failure);
                done.complete(failure == null);
            });
        } else {
            if (activated) {
                requestContext.terminate();
            }
            observed.ended(null);
            done.complete(true);
        }
    }

    private Object[] arguments(BusMessage message, GroupDelivery delivery) throws Exception {
        Object[] arguments = new Object[method.parameters.size()];
        for (int i = 0; i < arguments.length; i++) {
            arguments[i] = switch (method.parameters.get(i)) {
                case PAYLOAD_TEXT -> message.payload();
                case PAYLOAD_JSON -> objectMapper.readValue(message.payload(), payloadType);
                case MESSAGE -> message;
                case GROUP_DELIVERY -> delivery;
            };
        }
        return arguments;
    }

    private void logFailure(BusMessage message, Throwable failure) {
        if ((failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                : failure) instanceof HandledFailure) {
            return;
        }
        // The payload is not logged: it may carry personal data, and it can be read from the sender's side.
        LOG.errorf(failure, "%s failed on message %d of channel '%s'; the next message is delivered"
                + " as usual", method.label(), message.position(), message.channel());
    }
}
