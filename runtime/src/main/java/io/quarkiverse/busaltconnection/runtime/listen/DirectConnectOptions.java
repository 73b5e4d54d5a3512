package io.quarkiverse.busaltconnection.runtime.listen;

import java.util.Optional;
import java.util.Properties;

import org.eclipse.microprofile.config.Config;
import org.postgresql.Driver;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.config.Redacted;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

/**
 * Builds the connect options of the direct path: {@code quarkus.imdispatcher.*} first, the default datasource's
 * settings for anything left unset. The JDBC URL is parsed by pgjdbc itself, so every URL form the datasource
 * accepts is understood the same way here.
 */
public final class DirectConnectOptions {

    static final String JDBC_URL = "quarkus.datasource.jdbc.url";
    static final String DATASOURCE_USERNAME = "quarkus.datasource.username";
    static final String DATASOURCE_PASSWORD = "quarkus.datasource.password";
    private static final int DEFAULT_PORT = 5432;

    private DirectConnectOptions() {
    }

    /**
     * @throws IllegalStateException naming the keys to set, when the host or database cannot be found anywhere
     */
    public static PgConnectOptions resolve(ImDispatcherConfig config, Config appConfig) {
        Properties jdbc = appConfig.getOptionalValue(JDBC_URL, String.class)
                .map(DirectConnectOptions::parseJdbcUrl)
                .orElseGet(Properties::new);

        String host = config.dbHost().or(() -> first(jdbc.getProperty("PGHOST")))
                .orElseThrow(() -> new IllegalStateException("Bus Alt Connection does not know which PostgreSQL"
                        + " server to listen on: set quarkus.imdispatcher.db-host and quarkus.imdispatcher.db-port"
                        + " (or IMDISPATCHER_DB_HOST / IMDISPATCHER_DB_PORT) to PostgreSQL itself, not PgBouncer,"
                        + " or configure the default datasource (" + JDBC_URL + ")"));
        int port = config.dbPort().isPresent() ? config.dbPort().getAsInt()
                : first(jdbc.getProperty("PGPORT")).map(Integer::parseInt).orElse(DEFAULT_PORT);
        String database = config.dbName().or(() -> Optional.ofNullable(jdbc.getProperty("PGDBNAME")))
                .filter(name -> !name.isEmpty())
                .orElseThrow(() -> new IllegalStateException("Bus Alt Connection does not know which database to"
                        + " listen in: set quarkus.imdispatcher.db-name, or put the database in " + JDBC_URL));

        PgConnectOptions options = new PgConnectOptions()
                .setHost(host)
                .setPort(port)
                .setDatabase(database)
                .setConnectTimeout(Math.toIntExact(config.connectTimeout().toMillis()))
                // A listener sits idle for long stretches: let the kernel notice a vanished peer.
                .setTcpKeepAlive(true)
                // The direct path reaches PostgreSQL itself, so named statements work: the sequencer's and the
                // readers' statements are parsed and planned once per connection, not on every run.
                .setCachePreparedStatements(true);
        options.getProperties().put("application_name", config.applicationName());
        config.username().or(() -> appConfig.getOptionalValue(DATASOURCE_USERNAME, String.class))
                .or(() -> Optional.ofNullable(jdbc.getProperty("user")))
                .ifPresent(options::setUser);
        config.password().or(() -> appConfig.getOptionalValue(DATASOURCE_PASSWORD, String.class))
                .or(() -> Optional.ofNullable(jdbc.getProperty("password")))
                .ifPresent(options::setPassword);
        SslMode sslMode = config.sslMode()
                .or(() -> Optional.ofNullable(jdbc.getProperty("sslmode")).map(SslMode::of))
                // As pgjdbc: ssl=true without sslmode verifies the server fully; nothing at all prefers TLS.
                .orElse("true".equalsIgnoreCase(jdbc.getProperty("ssl")) ? SslMode.VERIFY_FULL : SslMode.PREFER);
        options.setSslMode(sslMode);
        if (sslMode == SslMode.ALLOW || sslMode == SslMode.PREFER || sslMode == SslMode.REQUIRE) {
            // These modes encrypt without checking the server's certificate, as pgjdbc and libpq do.
            options.setTrustAll(true);
        }
        return options;
    }

    /**
     * What the logs may say about a connection: never the password.
     */
    public static String describe(PgConnectOptions options) {
        return options.getHost() + ":" + options.getPort() + "/" + options.getDatabase() + " as user "
                + options.getUser();
    }

    /**
     * The error for a direct connection that could not be made: what was tried, why it failed, and what to check.
     */
    public static IllegalStateException unreachable(PgConnectOptions options, String reason, Throwable cause) {
        return new IllegalStateException("Bus Alt Connection could not reach PostgreSQL at " + describe(options)
                + ": " + reason + ". The listener needs a direct route to PostgreSQL itself, not to PgBouncer: check"
                + " quarkus.imdispatcher.db-host and quarkus.imdispatcher.db-port (or IMDISPATCHER_DB_HOST /"
                + " IMDISPATCHER_DB_PORT), db-name, username and password.", cause);
    }

    private static Properties parseJdbcUrl(String url) {
        Properties properties = Driver.parseURL(url, null);
        if (properties == null) {
            throw new IllegalStateException(JDBC_URL + " '" + Redacted.url(url) + "' is not a PostgreSQL JDBC URL"
                    + " (jdbc:postgresql://host:port/database); set quarkus.imdispatcher.db-host, db-port and db-name");
        }
        return properties;
    }

    /** pgjdbc lists the hosts and ports of a multi-host URL comma-separated; the listener takes the first. */
    private static Optional<String> first(String commaSeparated) {
        if (commaSeparated == null || commaSeparated.isEmpty()) {
            return Optional.empty();
        }
        int comma = commaSeparated.indexOf(',');
        return Optional.of(comma < 0 ? commaSeparated : commaSeparated.substring(0, comma));
    }
}
