package io.quarkiverse.busaltconnection.deployment.devservices;

import java.util.OptionalInt;

import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Dev Services: a PostgreSQL and a PgBouncer in front of it, started in dev and test mode when the application
 * configures no datasource URL. The datasource is pointed at PgBouncer, the listener at PostgreSQL directly.
 */
@ConfigMapping(prefix = "quarkus.imdispatcher.devservices")
@ConfigRoot(phase = ConfigPhase.BUILD_TIME)
public interface ImDispatcherDevServicesConfig {

    /**
     * Whether Dev Services start PostgreSQL and PgBouncer. They start only in dev and test mode, and only when
     * `quarkus.datasource.jdbc.url` is not set; Quarkus's own datasource Dev Service then stands down, so exactly
     * one PostgreSQL runs.
     */
    @WithDefault("true")
    boolean enabled();

    /**
     * How the servers run: `container` (PostgreSQL and PgBouncer images on one container network), `local` (the
     * `initdb`, `postgres` and `pgbouncer` binaries of this machine, in a temporary directory, under an
     * unprivileged user when running as root), or `auto`: containers when a container runtime is available,
     * else the local binaries.
     */
    @WithDefault("auto")
    Mode mode();

    /**
     * PgBouncer's `pool_mode`. `transaction` is the mode this extension exists for; `session` is there to compare.
     */
    @WithDefault("transaction")
    PoolMode poolMode();

    /**
     * PgBouncer's `default_pool_size`: server connections per database and user.
     */
    @WithDefault("10")
    int defaultPoolSize();

    /**
     * PgBouncer's `max_client_conn`: client connections it accepts.
     */
    @WithDefault("200")
    int maxClientConn();

    /**
     * Database created in PostgreSQL.
     */
    @WithDefault("quarkus")
    String dbName();

    /**
     * User created in PostgreSQL, known to PgBouncer, and admin of PgBouncer's console (`SHOW POOLS`).
     */
    @WithDefault("quarkus")
    String username();

    /**
     * Password of that user.
     */
    @WithDefault("quarkus")
    String password();

    /**
     * Fixed host port for PostgreSQL. A free port is chosen when unset.
     */
    OptionalInt postgresPort();

    /**
     * Fixed host port for PgBouncer. A free port is chosen when unset.
     */
    OptionalInt pgbouncerPort();

    /**
     * PostgreSQL image, in container mode.
     */
    @WithDefault("docker.io/library/postgres:17-alpine")
    String postgresImageName();

    /**
     * PgBouncer image, in container mode. It must run `pgbouncer /etc/pgbouncer/pgbouncer.ini` and leave an
     * existing `pgbouncer.ini` alone, as `edoburu/pgbouncer` does: Dev Services write the ini and the user list.
     */
    @WithDefault("docker.io/edoburu/pgbouncer:latest")
    String pgbouncerImageName();

    /**
     * Whether the servers are shared between applications in dev mode: an application finds servers started by
     * another one with the same `service-name` and uses them instead of starting its own. Containers are found by
     * label, local processes through a registry file in the temporary directory.
     */
    @WithDefault("true")
    boolean shared();

    /**
     * Name under which shared servers are found.
     */
    @WithDefault("imdispatcher")
    String serviceName();

    /**
     * Where the servers run.
     */
    enum Mode {
        /** Containers when a container runtime is available, else the local binaries. */
        AUTO,
        /** PostgreSQL and PgBouncer images. */
        CONTAINER,
        /** The binaries installed on this machine. */
        LOCAL
    }

    /**
     * PgBouncer pool modes.
     */
    enum PoolMode {
        /** A server connection per transaction. */
        TRANSACTION,
        /** A server connection per client session. */
        SESSION,
        /** A server connection per statement. */
        STATEMENT
    }
}
