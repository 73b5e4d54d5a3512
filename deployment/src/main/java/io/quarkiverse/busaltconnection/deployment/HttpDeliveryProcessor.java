package io.quarkiverse.busaltconnection.deployment;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusChannelAuthorizer;
import io.quarkiverse.busaltconnection.runtime.BusAltConnectionRecorder;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig;
import io.quarkiverse.busaltconnection.runtime.dispatch.EngineStatus;
import io.quarkiverse.busaltconnection.runtime.dispatch.LiveFeed;
import io.quarkiverse.busaltconnection.runtime.http.ConfiguredChannelAuthorizer;
import io.quarkiverse.busaltconnection.runtime.http.HttpAdmission;
import io.quarkus.arc.deployment.AdditionalBeanBuildItem;
import io.quarkus.arc.deployment.UnremovableBeanBuildItem;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.ExecutionTime;
import io.quarkus.deployment.annotations.Record;
import io.quarkus.vertx.http.deployment.BodyHandlerBuildItem;
import io.quarkus.vertx.http.deployment.RouteBuildItem;

/**
 * The long-poll and Server-Sent Events endpoints, when {@code quarkus.imdispatcher.http.enabled}.
 */
class HttpDeliveryProcessor {

    @BuildStep
    AdditionalBeanBuildItem defaultAuthorizer(ImDispatcherBuildTimeConfig all) {
        return all.http().enabled() ? AdditionalBeanBuildItem.unremovableOf(ConfiguredChannelAuthorizer.class) : null;
    }

    /** The limits both endpoints share; looked up by the handlers. */
    @BuildStep
    AdditionalBeanBuildItem admission(ImDispatcherBuildTimeConfig all) {
        return all.http().enabled() ? AdditionalBeanBuildItem.unremovableOf(HttpAdmission.class) : null;
    }

    /** The handlers look these up when a request comes; nothing injects them, so ArC would remove them. */
    @BuildStep
    UnremovableBeanBuildItem lookedUpBeans(ImDispatcherBuildTimeConfig all) {
        return all.http().enabled()
                ? UnremovableBeanBuildItem.beanTypes(BusChannelAuthorizer.class, ObjectMapper.class,
                        AgroalDataSource.class, LiveFeed.class, EngineStatus.class)
                : null;
    }

    @BuildStep
    @Record(ExecutionTime.RUNTIME_INIT)
    void routes(ImDispatcherBuildTimeConfig all, BusAltConnectionRecorder recorder, BodyHandlerBuildItem body,
            BuildProducer<RouteBuildItem> routes) {
        if (!all.http().enabled()) {
            return;
        }
        ImDispatcherBuildTimeConfig.HttpEndpoints config = all.http();
        String root = config.rootPath().endsWith("/") ? config.rootPath().substring(0, config.rootPath().length() - 1)
                : config.rootPath();
        routes.produce(RouteBuildItem.builder()
                .routeFunction(root + "/poll", recorder.withBody(body.getHandler()))
                .handler(recorder.longPollHandler())
                .displayOnNotFoundPage("Bus long-poll (POST)").build());
        routes.produce(RouteBuildItem.builder().route(root + "/sse").handler(recorder.sseHandler())
                .displayOnNotFoundPage("Bus Server-Sent Events").build());
    }
}
