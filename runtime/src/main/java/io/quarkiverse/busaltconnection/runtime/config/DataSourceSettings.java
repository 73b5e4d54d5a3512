package io.quarkiverse.busaltconnection.runtime.config;

import java.util.Optional;

import io.quarkus.agroal.runtime.DataSourcesJdbcRuntimeConfig;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.datasource.runtime.DataSourceRuntimeConfig;
import io.quarkus.datasource.runtime.DataSourcesRuntimeConfig;

/**
 * The settings of the bus's datasource that the direct connections fall back to, with the names of their keys for
 * messages.
 */
public record DataSourceSettings(String name, Optional<String> jdbcUrl, Optional<String> username,
        Optional<String> password, Optional<String> credentialsProvider, Optional<String> credentialsProviderName) {

    public static DataSourceSettings of(String name, DataSourcesRuntimeConfig dataSources,
            DataSourcesJdbcRuntimeConfig jdbc) {
        DataSourceRuntimeConfig runtime = dataSources.dataSources().get(name);
        var jdbcConfig = jdbc.dataSources().get(name);
        Optional<String> url = jdbcConfig == null ? Optional.empty() : jdbcConfig.jdbc().url();
        if (runtime == null) {
            return new DataSourceSettings(name, url, Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty());
        }
        return new DataSourceSettings(name, url, runtime.username(), runtime.password(), runtime.credentialsProvider(),
                runtime.credentialsProviderName());
    }

    /** The datasource's key for {@code radical}: {@code quarkus.datasource.jdbc.url}, say. */
    public String key(String radical) {
        return DataSourceUtil.dataSourcePropertyKey(name, radical);
    }

    public String jdbcUrlKey() {
        return key("jdbc.url");
    }
}
