package io.quarkiverse.busaltconnection.it;

import java.util.Properties;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.postgresql.Driver;

/**
 * Where the servers the application uses are, read from its configuration (set by Dev Services): the datasource
 * URL points at PgBouncer, quarkus.imdispatcher.db-host/port at PostgreSQL.
 */
final class Servers {

    private Servers() {
    }

    private static Config config() {
        return ConfigProvider.getConfig();
    }

    private static Properties pooledUrl() {
        return Driver.parseURL(config().getValue("quarkus.datasource.jdbc.url", String.class), null);
    }

    static String database() {
        return pooledUrl().getProperty("PGDBNAME");
    }

    static String pgbouncerHost() {
        return pooledUrl().getProperty("PGHOST");
    }

    static int pgbouncerPort() {
        return Integer.parseInt(pooledUrl().getProperty("PGPORT"));
    }

    static int postgresPort() {
        return config().getValue("quarkus.imdispatcher.db-port", Integer.class);
    }

    /** PostgreSQL itself, not through PgBouncer. */
    static String postgresJdbcUrl() {
        return "jdbc:postgresql://" + config().getValue("quarkus.imdispatcher.db-host", String.class) + ":"
                + postgresPort() + "/" + database();
    }

    static String user() {
        return config().getValue("quarkus.datasource.username", String.class);
    }

    static String password() {
        return config().getValue("quarkus.datasource.password", String.class);
    }
}
