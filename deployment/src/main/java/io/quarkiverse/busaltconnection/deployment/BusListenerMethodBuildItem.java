package io.quarkiverse.busaltconnection.deployment;

import java.util.List;

import io.quarkiverse.busaltconnection.runtime.dispatch.ExecutionModel;
import io.quarkiverse.busaltconnection.runtime.dispatch.ParameterKind;
import io.quarkus.arc.processor.InvokerInfo;
import io.quarkus.builder.item.MultiBuildItem;

/**
 * A validated {@code @BusListener} method and its generated invoker.
 */
public final class BusListenerMethodBuildItem extends MultiBuildItem {

    private final String channel;
    private final String description;
    private final ExecutionModel executionModel;
    private final List<ParameterKind> parameters;
    private final String payloadType;
    private final InvokerInfo invoker;
    private final boolean plainNotifications;

    BusListenerMethodBuildItem(String channel, String description, ExecutionModel executionModel,
            List<ParameterKind> parameters, String payloadType, InvokerInfo invoker, boolean plainNotifications) {
        this.plainNotifications = plainNotifications;
        this.channel = channel;
        this.description = description;
        this.executionModel = executionModel;
        this.parameters = parameters;
        this.payloadType = payloadType;
        this.invoker = invoker;
    }

    public String getChannel() {
        return channel;
    }

    public String getDescription() {
        return description;
    }

    public ExecutionModel getExecutionModel() {
        return executionModel;
    }

    public List<ParameterKind> getParameters() {
        return parameters;
    }

    public String getPayloadType() {
        return payloadType;
    }

    public InvokerInfo getInvoker() {
        return invoker;
    }

    public boolean isPlainNotifications() {
        return plainNotifications;
    }
}
