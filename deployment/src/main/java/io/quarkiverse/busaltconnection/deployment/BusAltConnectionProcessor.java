package io.quarkiverse.busaltconnection.deployment;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkiverse.busaltconnection.runtime.config.SeedEnvironmentVariables;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerProbeJob;
import io.quarkiverse.busaltconnection.runtime.send.PooledBus;
import io.quarkiverse.busaltconnection.runtime.store.BusRetention;
import io.quarkus.arc.deployment.AdditionalBeanBuildItem;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.builditem.FeatureBuildItem;
import io.quarkus.deployment.builditem.RunTimeConfigBuilderBuildItem;
import io.quarkus.deployment.builditem.RunTimeConfigurationDefaultBuildItem;
import io.quarkus.deployment.builditem.StaticInitConfigBuilderBuildItem;

/**
 * The extension's feature, its {@code Bus}, its configuration, and the pooled path made safe for transaction
 * pooling.
 */
public class BusAltConnectionProcessor {

    public static final String FEATURE = "bus-alt-connection";

    /**
     * pgjdbc switches to named server-side prepared statements after {@code prepareThreshold} (5) executions; a
     * transaction pooler hands the next transaction another server connection, where the statement does not exist.
     * 0 keeps every statement unnamed. A value the user sets (property or JDBC URL parameter) wins.
     */
    static final String PREPARE_THRESHOLD = "quarkus.datasource.jdbc.additional-jdbc-properties.prepareThreshold";

    @BuildStep
    FeatureBuildItem feature() {
        return new FeatureBuildItem(FEATURE);
    }

    @BuildStep
    AdditionalBeanBuildItem beanArchive() {
        // The runtime jar is not a bean archive: add the Bus and the qualifier to the application's bean index.
        return AdditionalBeanBuildItem.builder()
                .addBeanClasses(PooledBus.class, BusRetention.class, ListenerProbeJob.class, BusListener.class).build();
    }

    @BuildStep
    void seedEnvironmentVariables(BuildProducer<StaticInitConfigBuilderBuildItem> staticInit,
            BuildProducer<RunTimeConfigBuilderBuildItem> runtime) {
        staticInit.produce(new StaticInitConfigBuilderBuildItem(SeedEnvironmentVariables.class));
        runtime.produce(new RunTimeConfigBuilderBuildItem(SeedEnvironmentVariables.class));
    }

    @BuildStep
    RunTimeConfigurationDefaultBuildItem poolerSafePreparedStatements() {
        return new RunTimeConfigurationDefaultBuildItem(PREPARE_THRESHOLD, "0");
    }
}
