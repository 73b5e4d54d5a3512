package io.quarkiverse.busaltconnection.runtime.listen;

import java.util.Optional;
import java.util.Properties;

import javax.net.ssl.SSLException;

import org.postgresql.Driver;

import io.quarkiverse.busaltconnection.runtime.config.DataSourceSettings;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.config.Redacted;
import io.quarkus.tls.TlsConfiguration;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Builds the connect options of the direct path: {@code quarkus.imdispatcher.*} first, the bus's datasource's
 * settings for anything left unset. The JDBC URL is parsed by pgjdbc itself, so every URL form the datasource
 * accepts is understood the same way here.
 */
public final class DirectConnectOptions {

    private static final int DEFAULT_PORT = 5432;

    private DirectConnectOptions() {
    }

    /** Longer than any statement of the bus's, which are all cached on the direct path. */
    static final int PREPARED_STATEMENT_SQL_LIMIT = 16_384;

    /**
     * @param tls the TLS configuration {@code quarkus.imdispatcher.tls-configuration-name} names, looked up already
     * @throws IllegalStateException naming the keys to set, when the host or database cannot be found anywhere
     */
    public static PgConnectOptions resolve(ImDispatcherConfig config, DataSourceSettings dataSource,
            Optional<TlsConfiguration> tls) {
        Properties jdbc = dataSource.jdbcUrl()
                .map(url -> parseJdbcUrl(url, dataSource.jdbcUrlKey()))
                .orElseGet(Properties::new);

        String host = config.dbHost().or(() -> first(jdbc.getProperty("PGHOST")))
                .orElseThrow(() -> new IllegalStateException("Bus Alt Connection does not know which PostgreSQL"
                        + " server to listen on: set quarkus.imdispatcher.db-host and quarkus.imdispatcher.db-port"
                        + " (or IMDISPATCHER_DB_HOST / IMDISPATCHER_DB_PORT) to PostgreSQL itself, not PgBouncer,"
                        + " or configure the bus's datasource (" + dataSource.jdbcUrlKey() + ")"));
        int port = config.dbPort().isPresent() ? config.dbPort().getAsInt()
                : first(jdbc.getProperty("PGPORT")).map(Integer::parseInt).orElse(DEFAULT_PORT);
        String database = config.dbName().or(() -> Optional.ofNullable(jdbc.getProperty("PGDBNAME")))
                .filter(name -> !name.isEmpty())
                .orElseThrow(() -> new IllegalStateException("Bus Alt Connection does not know which database to"
                        + " listen in: set quarkus.imdispatcher.db-name, or put the database in "
                        + dataSource.jdbcUrlKey()));

        PgConnectOptions options = new PgConnectOptions()
                .setHost(host)
                .setPort(port)
                .setDatabase(database)
                .setConnectTimeout(Math.toIntExact(config.connectTimeout().toMillis()))
                // A listener sits idle for long stretches: let the kernel notice a vanished peer.
                .setTcpKeepAlive(true)
                // The direct path reaches PostgreSQL itself, so named statements work: the sequencer's and the
                // readers' statements are parsed and planned once per connection, not on every run. The client caches
                // only statements up to a length (2,048 characters by default): the sequencer's is longer, and parsing
                // and planning it again took about 2.5 ms of each run (the delivery's median at 100 messages a second
                // went from 5 ms to 15-20 ms).
                .setCachePreparedStatements(true)
                .setPreparedStatementCacheSqlLimit(PREPARED_STATEMENT_SQL_LIMIT);
        options.getProperties().put("application_name", config.applicationName());
        // A credentials provider, when one applies, overrides these before each connection (DirectCredentials).
        config.username().or(dataSource::username)
                .or(() -> Optional.ofNullable(jdbc.getProperty("user")))
                .ifPresent(options::setUser);
        config.password().or(dataSource::password)
                .or(() -> Optional.ofNullable(jdbc.getProperty("password")))
                .ifPresent(options::setPassword);
        DirectTls.configure(options, config.sslMode(), jdbc, tls);
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
        String tls = refusedCertificate(cause) ? " The server's certificate was not accepted: check"
                + " quarkus.imdispatcher.ssl-mode (verify-ca, verify-full) and the CA that verifies it"
                + " (quarkus.imdispatcher.tls-configuration-name, or the JDBC URL's sslrootcert)." : "";
        return new IllegalStateException("Bus Alt Connection could not reach PostgreSQL at " + describe(options)
                + ": " + reason + ". The listener needs a direct route to PostgreSQL itself, not to PgBouncer: check"
                + " quarkus.imdispatcher.db-host and quarkus.imdispatcher.db-port (or IMDISPATCHER_DB_HOST /"
                + " IMDISPATCHER_DB_PORT), db-name, username and password." + tls, cause);
    }

    /** Vert.x reports a refused certificate as "SSL handshake failed", without the JSSE exception as its cause. */
    private static boolean refusedCertificate(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SSLException || String.valueOf(t.getMessage()).contains("SSL handshake failed")) {
                return true;
            }
        }
        return false;
    }

    private static Properties parseJdbcUrl(String url, String key) {
        Properties properties = Driver.parseURL(url, null);
        if (properties == null) {
            throw new IllegalStateException(key + " '" + Redacted.url(url) + "' is not a PostgreSQL JDBC URL"
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
