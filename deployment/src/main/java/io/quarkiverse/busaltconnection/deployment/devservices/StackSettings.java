package io.quarkiverse.busaltconnection.deployment.devservices;

import java.util.Locale;
import java.util.OptionalInt;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig;

/**
 * What a started PostgreSQL + PgBouncer must look like. A value: Quarkus keeps running Dev Services across live
 * reloads as long as this stays equal.
 */
record StackSettings(String dbName, String username, String password, String poolMode, int defaultPoolSize,
        int maxClientConn, OptionalInt postgresPort, OptionalInt pgbouncerPort, String postgresImage,
        String pgbouncerImage, boolean shared, String serviceName) {

    static StackSettings of(ImDispatcherBuildTimeConfig.DevServices config) {
        return new StackSettings(config.dbName(), config.username(), config.password(),
                config.poolMode().name().toLowerCase(Locale.ROOT), config.defaultPoolSize(), config.maxClientConn(),
                config.postgresPort(), config.pgbouncerPort(), config.postgresImageName(),
                config.pgbouncerImageName(), config.shared(), config.serviceName());
    }

    /**
     * What Quarkus compares across live reloads to keep the running servers. A String, because after a reload this
     * record's class comes from a new class loader and never equals the old one; without the password itself.
     */
    String fingerprint() {
        return String.join("|", dbName, username, Integer.toHexString(password.hashCode()), poolMode,
                String.valueOf(defaultPoolSize), String.valueOf(maxClientConn), postgresPort.toString(),
                pgbouncerPort.toString(), postgresImage, pgbouncerImage, String.valueOf(shared), serviceName);
    }

    /**
     * The PgBouncer configuration; {@code postgresHost}/{@code postgresPort} as PgBouncer reaches PostgreSQL,
     * {@code extra} for what differs between local and container runs (listen address, pid file).
     */
    String pgbouncerIni(String postgresHost, int postgresPort, int listenPort, String authFile, String extra) {
        return String.join("\n",
                "[databases]",
                "* = host=" + postgresHost + " port=" + postgresPort,
                "[pgbouncer]",
                "listen_port = " + listenPort,
                "auth_type = scram-sha-256",
                "auth_file = " + authFile,
                "pool_mode = " + poolMode,
                "default_pool_size = " + defaultPoolSize,
                "max_client_conn = " + maxClientConn,
                // pgjdbc sends it at startup; PgBouncer refuses the connection unless told to ignore it.
                "ignore_startup_parameters = extra_float_digits",
                // Retry a PostgreSQL that went away after 1 s, not 15: dev and test servers come back quickly.
                "server_login_retry = 1",
                "admin_users = " + username,
                "stats_users = " + username,
                extra,
                "");
    }

    String userList() {
        return "\"" + username + "\" \"" + password + "\"\n";
    }
}
