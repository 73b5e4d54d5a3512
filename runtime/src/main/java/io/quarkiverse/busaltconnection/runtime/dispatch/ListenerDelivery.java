package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

import jakarta.enterprise.invoke.Invoker;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkus.arc.Arc;
import io.quarkus.arc.InjectableContext.ContextState;
import io.quarkus.arc.ManagedContext;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;

/**
 * Delivers the messages of one channel to one listener method: one at a time, in the order the dispatcher hands
 * them over, on the thread kind the method asked for. Whatever the method or its payload does, the failure stays
 * here (logged with the listener and message id) and the next message is delivered.
 */
final class ListenerDelivery {

    private static final Logger LOG = Logger.getLogger(ListenerDelivery.class);

    private final ListenerMethod method;
    private final Invoker<Object, Object> invoker;
    private final ObjectMapper objectMapper;
    private final JavaType payloadType;
    /**
     * Each listener has a context of its own, as {@code @ConsumeEvent} consumers do: ordered blocking tasks queue per
     * root context (duplicates share it), and one slow listener does not hold up the event loop of another.
     */
    private final Context context;
    private final Executor virtualThreads;
    /** Tail of the chain that keeps virtual-thread deliveries in order. */
    private CompletableFuture<Void> virtualThreadTail = CompletableFuture.completedFuture(null);

    /**
     * @param virtualThreads asked for only by {@code @RunOnVirtualThread} listeners: creating the executor on a JDK
     *        without virtual threads logs a warning, which other applications should not see
     */
    ListenerDelivery(ListenerMethod method, ObjectMapper objectMapper, Vertx vertx, Supplier<Executor> virtualThreads) {
        this.method = method;
        this.invoker = method.invoker.getValue();
        this.objectMapper = objectMapper;
        this.payloadType = method.payloadType.isEmpty() ? null
                : objectMapper.getTypeFactory().constructFromCanonical(method.payloadType);
        this.context = ((VertxInternal) vertx).createEventLoopContext();
        this.virtualThreads = method.executionModel == ExecutionModel.VIRTUAL_THREAD ? virtualThreads.get() : null;
    }

    String channel() {
        return method.channel;
    }

    /** Called by the dispatcher in delivery order, from one thread at a time. */
    void deliver(BusMessage message) {
        Context messageContext = VertxContext.createNewDuplicatedContext(context);
        // A fresh duplicated context per message, like an event-bus delivery: safe for Hibernate Reactive & co.
        VertxContextSafetyToggle.setContextSafe(messageContext, true);
        switch (method.executionModel) {
            case NON_BLOCKING -> messageContext.runOnContext(ignored -> invoke(message));
            case BLOCKING -> messageContext.executeBlocking(() -> {
                invoke(message);
                return null;
            }, true);
            case VIRTUAL_THREAD -> virtualThreadTail = virtualThreadTail.thenRunAsync(() -> invoke(message),
                    virtualThreads);
        }
    }

    private void invoke(BusMessage message) {
        Object[] arguments;
        try {
            arguments = arguments(message);
        } catch (Exception e) {
            LOG.errorf("@BusListener %s cannot read message %d of channel '%s' as %s: %s. The message is skipped"
                    + " for this listener; send a payload of that shape, or take the payload as String.",
                    method.description, message.id(), message.channel(), method.payloadType, e.getMessage());
            return;
        }
        ManagedContext requestContext = Arc.container().requestContext();
        boolean activated = !requestContext.isActive();
        if (activated) {
            requestContext.activate();
        }
        Object result;
        try {
            result = invoker.invoke(null, arguments);
        } catch (Throwable e) {
            if (activated) {
                requestContext.terminate();
            }
            logFailure(message, e);
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
            });
        } else if (activated) {
            requestContext.terminate();
        }
    }

    private Object[] arguments(BusMessage message) throws Exception {
        Object[] arguments = new Object[method.parameters.size()];
        for (int i = 0; i < arguments.length; i++) {
            arguments[i] = switch (method.parameters.get(i)) {
                case PAYLOAD_TEXT -> message.payload();
                case PAYLOAD_JSON -> objectMapper.readValue(message.payload(), payloadType);
                case MESSAGE -> message;
            };
        }
        return arguments;
    }

    private void logFailure(BusMessage message, Throwable failure) {
        // The payload is not logged: it may carry personal data, and it can be read from the sender's side.
        LOG.errorf(failure, "@BusListener %s failed on message %d of channel '%s'; the next message is delivered"
                + " as usual", method.description, message.id(), message.channel());
    }
}
