package io.quarkiverse.busaltconnection.runtime.config;

import java.util.Optional;

import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.smallrye.config.ConfigMapping;

/**
 * Which Agroal datasource carries the bus. Fixed at build time, because the build checks that the datasource exists
 * and Dev Services configure that datasource.
 */
@ConfigMapping(prefix = "quarkus.imdispatcher")
@ConfigRoot(phase = ConfigPhase.BUILD_AND_RUN_TIME_FIXED)
public interface ImDispatcherDataSourceConfig {

    /**
     * Name of the datasource the bus writes and reads through (the one that goes through PgBouncer), as in
     * `quarkus.datasource."<name>".*`. The direct connections take every setting left unset under
     * `quarkus.imdispatcher.*` from this datasource: host, port and database from its JDBC URL, username, password
     * and credentials provider. Defaults to the default datasource. A name that is not a configured datasource fails
     * the build.
     */
    Optional<String> datasource();

    /** The datasource's name, {@code <default>} for the default datasource. */
    default String datasourceName() {
        return datasource().orElse(DataSourceUtil.DEFAULT_DATASOURCE_NAME);
    }
}
