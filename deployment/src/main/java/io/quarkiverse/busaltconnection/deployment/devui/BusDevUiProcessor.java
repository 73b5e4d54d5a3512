package io.quarkiverse.busaltconnection.deployment.devui;

import java.util.List;

import io.quarkiverse.busaltconnection.deployment.BusListenerMethodBuildItem;
import io.quarkiverse.busaltconnection.runtime.dev.BusJsonRpcService;
import io.quarkus.deployment.IsDevelopment;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.devui.spi.JsonRPCProvidersBuildItem;
import io.quarkus.devui.spi.page.CardPageBuildItem;
import io.quarkus.devui.spi.page.Page;

/**
 * The Dev UI card "Bus Alt Connection": the listener's state, the {@code @BusListener} methods, a live feed of
 * messages with a channel filter, a form that sends a test message, PgBouncer's pools. Dev mode only; its JSON-RPC
 * service lives in the dev-only runtime module.
 */
class BusDevUiProcessor {

    @BuildStep(onlyIf = IsDevelopment.class)
    CardPageBuildItem card(List<BusListenerMethodBuildItem> listeners) {
        CardPageBuildItem card = new CardPageBuildItem();
        card.addPage(Page.webComponentPageBuilder()
                .title("Bus")
                .icon("font-awesome-solid:tower-broadcast")
                .componentLink("qwc-bus-alt-connection.js")
                .staticLabel(String.valueOf(listeners.size())));
        return card;
    }

    @BuildStep(onlyIf = IsDevelopment.class)
    JsonRPCProvidersBuildItem jsonRpc() {
        return new JsonRPCProvidersBuildItem(BusJsonRpcService.class);
    }
}
