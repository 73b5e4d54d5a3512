package io.quarkiverse.busaltconnection.deployment;

import org.jboss.jandex.DotName;

import io.quarkiverse.busaltconnection.runtime.messaging.BusConnector;
import io.quarkiverse.busaltconnection.runtime.messaging.IncomingChannels;
import io.quarkiverse.busaltconnection.runtime.messaging.JsonPayloads;
import io.quarkiverse.busaltconnection.runtime.messaging.SenderTransactions;
import io.quarkiverse.busaltconnection.runtime.messaging.TransactionJoin;
import io.quarkus.arc.deployment.AdditionalBeanBuildItem;
import io.quarkus.deployment.Capabilities;
import io.quarkus.deployment.Capability;
import io.quarkus.deployment.annotations.BuildStep;

/**
 * The Quarkus Messaging connector {@code bus-alt-connection}, only when the application has Quarkus Messaging:
 * without it, no class that names its types is loaded. Quarkus Messaging finds the connector among the beans, and
 * attaches to it the channels that name no connector when it is the only one.
 */
class MessagingProcessor {

    static final DotName INCOMING_CHANNELS = DotName.createSimple(IncomingChannels.class.getName());

    @BuildStep
    AdditionalBeanBuildItem connector(Capabilities capabilities) {
        if (!capabilities.isPresent(Capability.MESSAGING)) {
            return null;
        }
        return AdditionalBeanBuildItem.builder().setUnremovable()
                .addBeanClasses(BusConnector.class, IncomingChannels.class, TransactionJoin.class, JsonPayloads.class,
                        SenderTransactions.class)
                .build();
    }
}
