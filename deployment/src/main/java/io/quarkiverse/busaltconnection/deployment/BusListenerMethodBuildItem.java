package io.quarkiverse.busaltconnection.deployment;

import io.quarkiverse.busaltconnection.runtime.dispatch.ListenerMethod;
import io.quarkus.arc.processor.InvokerInfo;
import io.quarkus.builder.item.MultiBuildItem;

/**
 * A validated {@code @BusListener} method, as the runtime will see it once its generated invoker is instantiated.
 */
public final class BusListenerMethodBuildItem extends MultiBuildItem {

    private final ListenerMethod method;
    private final InvokerInfo invoker;

    /** @param method everything but the invoker, which exists only as generated code at build time */
    BusListenerMethodBuildItem(ListenerMethod method, InvokerInfo invoker) {
        this.method = method;
        this.invoker = invoker;
    }

    public ListenerMethod method() {
        return method;
    }

    public InvokerInfo invoker() {
        return invoker;
    }
}
