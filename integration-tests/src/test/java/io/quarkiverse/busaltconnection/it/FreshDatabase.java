package io.quarkiverse.busaltconnection.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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

    /**
     * Commits {@code count} messages on {@code channel} in one transaction, rows as Bus.send writes them: payloads
     * {@code <run>:<i>}, or with {@code keys} above 0, {@code <run>:<k>:<i>} with the key {@code parcel-<k>},
     * {@code k = i % keys}.
     */
    void commitMessages(String channel, String run, int count, int keys) throws SQLException {
        String payload = keys > 0 ? "? || (g % " + keys + ") || ':' || g" : "? || g";
        String key = keys > 0 ? "'parcel-' || (g % " + keys + ")" : "NULL";
        try (Connection connection = connect();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO imdispatcher_bus (channel,"
                        + " payload, message_key) SELECT ?, " + payload + ", " + key
                        + " FROM generate_series(0, ? - 1) AS g ORDER BY g")) {
            insert.setString(1, channel);
            insert.setString(2, run + ":");
            insert.setInt(3, count);
            insert.executeUpdate();
        }
    }

    /** The rows of {@code table} whose payload starts with {@code <run>:}, and how many distinct positions they hold. */
    long[] rowsAndPositions(String table, String run) throws SQLException {
        try (Connection connection = connect();
                PreparedStatement rows = connection.prepareStatement("SELECT count(*), count(DISTINCT position) FROM "
                        + table + " WHERE payload LIKE ?")) {
            rows.setString(1, run + ":%");
            try (ResultSet row = rows.executeQuery()) {
                row.next();
                return new long[] { row.getLong(1), row.getLong(2) };
            }
        }
    }

    /** The number a query with one text parameter returns in its first column, on this database, directly. */
    long number(String sql, String parameter) throws SQLException {
        try (Connection connection = connect(); PreparedStatement query = connection.prepareStatement(sql)) {
            query.setString(1, parameter);
            try (ResultSet row = query.executeQuery()) {
                row.next();
                return row.getLong(1);
            }
        }
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
