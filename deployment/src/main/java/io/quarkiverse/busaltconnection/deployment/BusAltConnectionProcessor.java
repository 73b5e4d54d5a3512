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
import io.quarkiverse.busaltconnection.runtime.send.ReactiveSender;
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

    /**
     * The reactive client pipelines up to 256 statements on a connection before the first answer; 1 sends each after
     * the previous one's answer, the exchange a transaction pooler hands from server connection to server connection
     * at each transaction's end. A value the user sets wins.
     */
    static final String PIPELINING_LIMIT = "reactive.postgresql.pipelining-limit";

    /**
     * The reactive client's extended protocol otherwise ends a statement's preparation with a Sync, after which a
     * transaction pooler may hand the execution to another server connection ("unnamed prepared statement does not
     * exist" for every statement outside a transaction). In layer-7-proxy mode it sends each statement in one exchange.
     */
    static final String LAYER_7_PROXY = "reactive.postgresql.use-layer7-proxy";

    /**
     * Quarkus caches the reactive client's prepared statements for PostgreSQL by default; a statement prepared on one
     * server connection is missing on the next transaction's ("prepared statement ... does not exist", or "already
     * exists" where the name is reused).
     */
    static final String STATEMENT_CACHE = "reactive.cache-prepared-statements";

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
                        SequencerActivity.class, ReactiveSender.class)
                .build();
    }

    @BuildStep
    void seedEnvironmentVariables(BuildProducer<StaticInitConfigBuilderBuildItem> staticInit,
            BuildProducer<RunTimeConfigBuilderBuildItem> runtime) {
        staticInit.produce(new StaticInitConfigBuilderBuildItem(SeedEnvironmentVariables.class));
        runtime.produce(new RunTimeConfigBuilderBuildItem(SeedEnvironmentVariables.class));
    }

    /**
     * pgjdbc's and the reactive client's settings that transaction pooling needs, for the bus's datasource, which
     * goes through PgBouncer, and for the default one, which usually does too.
     */
    @BuildStep
    void poolerSafePreparedStatements(ImDispatcherBuildTimeConfig busDataSource,
            BuildProducer<RunTimeConfigurationDefaultBuildItem> defaults) {
        Set<String> names = new LinkedHashSet<>(List.of(DataSourceUtil.DEFAULT_DATASOURCE_NAME,
                busDataSource.datasourceName()));
        for (String name : names) {
            defaults.produce(new RunTimeConfigurationDefaultBuildItem(
                    DataSourceUtil.dataSourcePropertyKey(name, PREPARE_THRESHOLD), "0"));
            defaults.produce(new RunTimeConfigurationDefaultBuildItem(
                    DataSourceUtil.dataSourcePropertyKey(name, PIPELINING_LIMIT), "1"));
            defaults.produce(new RunTimeConfigurationDefaultBuildItem(
                    DataSourceUtil.dataSourcePropertyKey(name, LAYER_7_PROXY), "true"));
            defaults.produce(new RunTimeConfigurationDefaultBuildItem(
                    DataSourceUtil.dataSourcePropertyKey(name, STATEMENT_CACHE), "false"));
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
