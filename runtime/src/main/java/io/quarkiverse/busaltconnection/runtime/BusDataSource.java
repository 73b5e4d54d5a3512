package io.quarkiverse.busaltconnection.runtime;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherDataSourceConfig;
import io.quarkus.agroal.runtime.AgroalDataSourceUtil;

/**
 * The Agroal datasource the bus goes through: the default one, or the one {@code quarkus.imdispatcher.datasource}
 * names (checked at build time).
 */
@Singleton
public class BusDataSource {

    private final String name;
    private final AgroalDataSource dataSource;

    @Inject
    public BusDataSource(ImDispatcherDataSourceConfig config) {
        this.name = config.datasourceName();
        this.dataSource = AgroalDataSourceUtil.dataSourceInstance(name).get();
    }

    public AgroalDataSource get() {
        return dataSource;
    }

    public String name() {
        return name;
    }
}
