package io.quarkiverse.busaltconnection.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.postgresql.Driver;

/**
 * A brand-new database on the Dev Services PostgreSQL of a {@code @QuarkusIntegrationTest}, for an application of
 * its own: nothing another test does reaches it (retention, say), and the application creates its schema from
 * nothing. Dropped when closed.
 */
final class FreshDatabase implements AutoCloseable {

    private final Map<String, String> dev = DevServicesProperties.get();
    final String name;

    FreshDatabase(String prefix) throws SQLException {
        this.name = prefix + "_" + Long.toHexString(System.nanoTime());
        try (Connection connection = connect("postgres"); Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        }
    }

    /** A direct connection (not through PgBouncer) to {@code database}. */
    Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(directUrl(database), dev.get("quarkus.datasource.username"),
                dev.get("quarkus.datasource.password"));
    }

    /** A direct connection to this database. */
    Connection connect() throws SQLException {
        return connect(name);
    }

    /** The JDBC URL of {@code database} on PostgreSQL itself. */
    String directUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + dev.get("quarkus.imdispatcher.db-port") + "/" + database;
    }

    /** The Dev Services configuration with both paths pointed at this database, the datasource through PgBouncer. */
    Map<String, String> appConfig(int httpPort) {
        Properties pooled = Driver.parseURL(dev.get("quarkus.datasource.jdbc.url"), null);
        Map<String, String> config = new HashMap<>(dev);
        config.put("quarkus.datasource.jdbc.url", "jdbc:postgresql://" + pooled.getProperty("PGHOST") + ":"
                + pooled.getProperty("PGPORT") + "/" + name);
        config.put("quarkus.imdispatcher.db-name", name);
        config.put("quarkus.http.port", String.valueOf(httpPort));
        return config;
    }

    @Override
    public void close() throws SQLException {
        try (Connection connection = connect("postgres"); Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }
}
