package io.quarkiverse.busaltconnection.deployment;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import io.quarkiverse.busaltconnection.BusDirect;
import io.quarkiverse.busaltconnection.runtime.BusDataSource;
import io.quarkiverse.busaltconnection.runtime.BusLifecycle;
import io.quarkiverse.busaltconnection.runtime.BusNotRunning;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig;
import io.quarkiverse.busaltconnection.runtime.config.SeedEnvironmentVariables;
import io.quarkiverse.busaltconnection.runtime.dispatch.EngineBeans;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerProbeJob;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.pgbouncer.PgBouncerConsole;
import io.quarkiverse.busaltconnection.runtime.send.PooledBus;
import io.quarkiverse.busaltconnection.runtime.sequence.SequencerActivity;
import io.quarkiverse.busaltconnection.runtime.store.BusRetention;
import io.quarkiverse.busaltconnection.runtime.store.BusTableProducer;
import io.quarkiverse.busaltconnection.runtime.store.UnnumberedMessages;
import io.quarkus.agroal.spi.JdbcDataSourceBuildItem;
import io.quarkus.arc.deployment.AdditionalBeanBuildItem;
import io.quarkus.arc.deployment.ValidationPhaseBuildItem.ValidationErrorBuildItem;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.builditem.FeatureBuildItem;
import io.quarkus.deployment.builditem.RunTimeConfigBuilderBuildItem;
import io.quarkus.deployment.builditem.RunTimeConfigurationDefaultBuildItem;
import io.quarkus.deployment.builditem.StaticInitConfigBuilderBuildItem;
import io.quarkus.runtime.configuration.ConfigurationException;

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
    static final String PREPARE_THRESHOLD = "jdbc.additional-jdbc-properties.prepareThreshold";

    @BuildStep
    FeatureBuildItem feature() {
        return new FeatureBuildItem(FEATURE);
    }

    @BuildStep
    AdditionalBeanBuildItem beanArchive() {
        // The runtime jar is not a bean archive: add the Bus and the qualifier to the application's bean index.
        return AdditionalBeanBuildItem.builder()
                .addBeanClasses(PooledBus.class, BusRetention.class, ListenerProbeJob.class, BusDirect.class,
                        BusDataSource.class, BusLifecycle.class, BusNotRunning.class, BusObservers.class,
                        PgBouncerConsole.class, BusTableProducer.class, UnnumberedMessages.class, EngineBeans.class,
                        SequencerActivity.class)
                .build();
    }

    @BuildStep
    void seedEnvironmentVariables(BuildProducer<StaticInitConfigBuilderBuildItem> staticInit,
            BuildProducer<RunTimeConfigBuilderBuildItem> runtime) {
        staticInit.produce(new StaticInitConfigBuilderBuildItem(SeedEnvironmentVariables.class));
        runtime.produce(new RunTimeConfigBuilderBuildItem(SeedEnvironmentVariables.class));
    }

    /** For the bus's datasource, which goes through PgBouncer, and for the default one, which usually does too. */
    @BuildStep
    void poolerSafePreparedStatements(ImDispatcherBuildTimeConfig busDataSource,
            BuildProducer<RunTimeConfigurationDefaultBuildItem> defaults) {
        Set<String> names = new LinkedHashSet<>(List.of(DataSourceUtil.DEFAULT_DATASOURCE_NAME,
                busDataSource.datasourceName()));
        for (String name : names) {
            defaults.produce(new RunTimeConfigurationDefaultBuildItem(
                    DataSourceUtil.dataSourcePropertyKey(name, PREPARE_THRESHOLD), "0"));
        }
    }

    /** The bus's datasource must be one the application configures: say so at build time, naming both keys. */
    @BuildStep
    void busDataSourceExists(ImDispatcherBuildTimeConfig busDataSource, List<JdbcDataSourceBuildItem> dataSources,
            BuildProducer<ValidationErrorBuildItem> errors) {
        String name = busDataSource.datasourceName();
        if (dataSources.stream().noneMatch(dataSource -> dataSource.getName().equals(name))) {
            List<String> configured = dataSources.stream().map(JdbcDataSourceBuildItem::getName).sorted().toList();
            errors.produce(new ValidationErrorBuildItem(
                    new ConfigurationException("quarkus.imdispatcher.datasource is '" + name + "', but there is no JDBC"
                            + " datasource of that name (configured: " + (configured.isEmpty() ? "none" : configured)
                            + "): configure it (" + DataSourceUtil.dataSourcePropertyKey(name, "db-kind") + "=postgresql"
                            + " and its JDBC URL), or name one of those")));
        }
    }
}
