package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.List;

import jakarta.enterprise.invoke.Invoker;

import io.quarkus.runtime.RuntimeValue;
import io.quarkus.runtime.annotations.RecordableConstructor;

/**
 * A {@code @BusListener} method as found and validated at build time, with its generated invoker.
 */
public final class ListenerMethod {

    /** The bus channel (a PostgreSQL channel too, for plain notifications). */
    public final String channel;
    /** {@code declaring.Class#method(ParamTypes)}, for logs. */
    public final String description;
    public final ExecutionModel executionModel;
    /** One entry per method parameter, in declaration order. */
    public final List<ParameterKind> parameters;
    /** Jackson canonical type of the {@link ParameterKind#PAYLOAD_JSON} parameter, or empty if there is none. */
    public final String payloadType;
    /** The generated invoker; null until the build hands the method to the runtime. */
    public final RuntimeValue<Invoker<Object, Object>> invoker;
    /** Whether plain NOTIFYs on the channel are delivered too ({@code @BusListener(plainNotifications = true)}). */
    public final boolean plainNotifications;
    /** The durable consumer group ({@code @BusListener(group = ...)}); empty for a broadcast listener. */
    public final String group;

    @RecordableConstructor
    public ListenerMethod(String channel, String description, ExecutionModel executionModel,
            List<ParameterKind> parameters, String payloadType, RuntimeValue<Invoker<Object, Object>> invoker,
            boolean plainNotifications, String group) {
        this.plainNotifications = plainNotifications;
        this.group = group;
        this.channel = channel;
        this.description = description;
        this.executionModel = executionModel;
        this.parameters = parameters;
        this.payloadType = payloadType;
        this.invoker = invoker;
    }

    /** Whether it belongs to a durable consumer group. */
    public boolean grouped() {
        return !group.isEmpty();
    }

    /** This method with its invoker, as the build records it. */
    public ListenerMethod withInvoker(RuntimeValue<Invoker<Object, Object>> invoker) {
        return new ListenerMethod(channel, description, executionModel, parameters, payloadType, invoker,
                plainNotifications, group);
    }

    /** This method listening on {@code channel}: a {@code ${...}} expression's value, resolved at startup. */
    public ListenerMethod withChannel(String channel) {
        return new ListenerMethod(channel, description, executionModel, parameters, payloadType, invoker,
                plainNotifications, group);
    }
}
