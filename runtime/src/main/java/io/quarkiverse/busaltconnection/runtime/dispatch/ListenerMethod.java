package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.List;
import java.util.Optional;

import jakarta.enterprise.invoke.Invoker;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkus.runtime.RuntimeValue;
import io.quarkus.runtime.annotations.RecordableConstructor;

/**
 * A {@code @BusListener} method as found and validated at build time, with its generated invoker; or an incoming
 * channel of the Quarkus Messaging connector, which the engine delivers the same way (see {@link #ofChannel}).
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
    /** For a connector channel: its own group settings and page size; null for a method (from configuration). */
    private final ChannelSettings channelSettings;

    /**
     * What a connector channel sets for itself, where a method's come from {@code quarkus.imdispatcher.*}.
     *
     * @param traced whether its calls are observed
     *        ({@link io.quarkiverse.busaltconnection.runtime.observe.BusObservers#calling},
     *        the consumer span with OpenTelemetry)
     */
    public record ChannelSettings(Optional<ImDispatcherConfig.ConsumerGroup> group, int pageSize, boolean traced) {
    }

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
        this.channelSettings = null;
    }

    private ListenerMethod(ListenerMethod method, ChannelSettings settings) {
        this.plainNotifications = method.plainNotifications;
        this.group = method.group;
        this.channel = method.channel;
        this.description = method.description;
        this.executionModel = method.executionModel;
        this.parameters = method.parameters;
        this.payloadType = method.payloadType;
        this.invoker = method.invoker;
        this.channelSettings = settings;
    }

    /**
     * An incoming channel of the Quarkus Messaging connector: {@code invoker} is called with the
     * {@link io.quarkiverse.busaltconnection.BusMessage} and, in a group, the {@link GroupDelivery}, and returns a
     * {@code CompletionStage} that completes when the message was acknowledged (fails when it was not).
     *
     * @param description how logs and the status name it, e.g. {@code Quarkus Messaging channel 'orders-in'}
     */
    public static ListenerMethod ofChannel(String busChannel, String description, String group,
            Invoker<Object, Object> invoker, ChannelSettings settings) {
        ListenerMethod method = new ListenerMethod(busChannel, description, ExecutionModel.NON_BLOCKING,
                List.of(ParameterKind.MESSAGE, ParameterKind.GROUP_DELIVERY), "", new RuntimeValue<>(invoker), false,
                group);
        return new ListenerMethod(method, settings);
    }

    /** The settings a connector channel gave itself; empty for a method. */
    public Optional<ChannelSettings> channelSettings() {
        return Optional.ofNullable(channelSettings);
    }

    /** Whether its calls are observed: always for a method, as its settings say for a connector channel. */
    public boolean traced() {
        return channelSettings == null || channelSettings.traced();
    }

    /** How logs name it: {@code @BusListener Class#method(...)}, or the connector channel's description. */
    public String label() {
        return channelSettings == null ? "@BusListener " + description : description;
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
