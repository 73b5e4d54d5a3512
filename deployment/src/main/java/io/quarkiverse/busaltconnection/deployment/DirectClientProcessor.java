package io.quarkiverse.busaltconnection.deployment;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Singleton;

import org.jboss.jandex.AnnotationInstance;
import org.jboss.jandex.ClassType;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusDirect;
import io.quarkiverse.busaltconnection.runtime.BusAltConnectionRecorder;
import io.quarkiverse.busaltconnection.runtime.BusDataSource;
import io.quarkiverse.busaltconnection.runtime.BusLifecycle;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusEngine;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusListeners;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.sequence.SequencerActivity;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.arc.deployment.SyntheticBeanBuildItem;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.ExecutionTime;
import io.quarkus.deployment.annotations.Record;
import io.quarkus.deployment.builditem.ShutdownContextBuildItem;
import io.quarkus.vertx.deployment.VertxBuildItem;
import io.vertx.sqlclient.Pool;

/**
 * The direct path's beans, created at runtime init from {@code quarkus.imdispatcher.*}: the reactive client
 * qualified {@code @BusDirect} (Vert.x and Mutiny flavours, lazily connecting) and the bus engine, which opens the
 * instance's one listening connection at startup.
 */
class DirectClientProcessor {

    @BuildStep
    @Record(ExecutionTime.RUNTIME_INIT)
    void directBeans(BusAltConnectionRecorder recorder, VertxBuildItem vertx, ShutdownContextBuildItem shutdown,
            ImDispatcherBuildTimeConfig config, BuildProducer<SyntheticBeanBuildItem> syntheticBeans) {
        AnnotationInstance qualifier = AnnotationInstance.builder(BusDirect.class).build();

        syntheticBeans.produce(SyntheticBeanBuildItem.configure(Pool.class)
                .scope(ApplicationScoped.class)
                .addQualifier(qualifier)
                .addInjectionPoint(ClassType.create(BusDataSource.class))
                .setRuntimeInit()
                .createWith(recorder.directPool(vertx.getVertx(), shutdown))
                .done());

        syntheticBeans.produce(SyntheticBeanBuildItem.configure(io.vertx.mutiny.sqlclient.Pool.class)
                .scope(ApplicationScoped.class)
                .addQualifier(qualifier)
                .addInjectionPoint(ClassType.create(Pool.class), qualifier)
                .setRuntimeInit()
                .createWith(recorder.mutinyDirectPool())
                .done());

        syntheticBeans.produce(SyntheticBeanBuildItem.configure(BusEngine.class)
                .scope(Singleton.class)
                .addInjectionPoint(ClassType.create(ObjectMapper.class))
                .addInjectionPoint(ClassType.create(BusDataSource.class))
                .addInjectionPoint(ClassType.create(BusObservers.class))
                .addInjectionPoint(ClassType.create(BusLifecycle.class))
                .addInjectionPoint(ClassType.create(BusTable.class))
                .addInjectionPoint(ClassType.create(BusListeners.class))
                .addInjectionPoint(ClassType.create(Bus.class))
                .addInjectionPoint(ClassType.create(SequencerActivity.class))
                .setRuntimeInit()
                // Listening must be established before the application serves anything, or a message committed
                // right after startup could go unheard.
                .startup()
                .unremovable()
                .createWith(recorder.engine(vertx.getVertx(), config.http().enabled(), shutdown))
                .done());
    }
}
