package io.quarkiverse.busaltconnection.runtime;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.runtime.config.DataSourceSettings;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig;
import io.quarkus.agroal.runtime.AgroalDataSourceUtil;
import io.quarkus.agroal.runtime.DataSourcesJdbcRuntimeConfig;
import io.quarkus.datasource.runtime.DataSourcesRuntimeConfig;

/**
 * The Agroal datasource the bus goes through: the default one, or the one {@code quarkus.imdispatcher.datasource}
 * names (checked at build time).
 */
@Singleton
public class BusDataSource {

    private final String name;
    private final AgroalDataSource dataSource;
    private final DataSourceSettings settings;

    @Inject
    public BusDataSource(ImDispatcherBuildTimeConfig config, DataSourcesRuntimeConfig dataSources,
            DataSourcesJdbcRuntimeConfig jdbc) {
        this.name = config.datasourceName();
        this.dataSource = AgroalDataSourceUtil.dataSourceInstance(name).get();
        this.settings = DataSourceSettings.of(name, dataSources, jdbc);
    }

    public AgroalDataSource get() {
        return dataSource;
    }

    public String name() {
        return name;
    }

    /** Its settings that the extension's other connections fall back to. */
    public DataSourceSettings settings() {
        return settings;
    }
}
