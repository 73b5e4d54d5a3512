package io.quarkiverse.busaltconnection.runtime.config;

import java.util.Optional;
import java.util.OptionalInt;

import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.runtime.annotations.ConfigDocSection;
import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

/**
 * What is fixed when the application is built: which datasource carries the bus, which endpoints, checks and meters
 * exist, and the Dev Services. The settings read at runtime are in {@link ImDispatcherConfig}.
 */
@ConfigMapping(prefix = "quarkus.imdispatcher")
@ConfigRoot(phase = ConfigPhase.BUILD_AND_RUN_TIME_FIXED)
public interface ImDispatcherBuildTimeConfig {

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

    /**
     * HTTP delivery of bus messages: long-poll and Server-Sent Events endpoints.
     */
    @ConfigDocSection
    HttpEndpoints http();

    /**
     * The bus's health checks.
     */
    HealthChecks health();

    /**
     * The bus's Micrometer meters.
     */
    Meters metrics();

    /**
     * Dev Services: a PostgreSQL and a PgBouncer in front of it, started in dev and test mode when the application
     * configures no datasource URL. The datasource is pointed at PgBouncer, the listener at PostgreSQL directly.
     */
    @ConfigDocSection
    @WithName("devservices")
    DevServices devServices();

    /** HTTP delivery's endpoints. */
    interface HttpEndpoints {
        /**
         * Whether the endpoints `<root-path>/poll` (long-poll) and `<root-path>/sse` (Server-Sent Events) exist. Their
         * channels are readable only as the application's `BusChannelAuthorizer` allows: by default, those of
         * `quarkus.imdispatcher.http.public-channels`, none unless configured. With HTTP delivery enabled, the instance
         * listens even without `@BusListener` methods.
         */
        @WithDefault("false")
        boolean enabled();

        /**
         * Path of the endpoints, under `quarkus.http.root-path`.
         */
        @WithDefault("/imdispatcher")
        String rootPath();
    }

    /** The bus's health checks. */
    interface HealthChecks {
        /**
         * Whether the readiness check "Bus Alt Connection listener" is published, when the application has SmallRye
         * Health: DOWN while the listening connection is down or its probes stop coming back, with details (server,
         * channels, last message, last probe, reconnections).
         */
        @WithDefault("true")
        boolean enabled();
    }

    /** The bus's meters. */
    interface Meters {
        /**
         * Whether the bus registers its meters (`imdispatcher.*`, and the PgBouncer gauges when
         * `quarkus.imdispatcher.pgbouncer.*` is set), when the application has Micrometer.
         */
        @WithDefault("true")
        boolean enabled();
    }

    /** The Dev Services' servers. */
    interface DevServices {
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
         * existing `pgbouncer.ini` alone, as `edoburu/pgbouncer` does: Dev Services write the ini and the user list. Pinned,
         * as Quarkus pins its images, so that a new release never changes a build unasked.
         */
        @WithDefault("docker.io/edoburu/pgbouncer:v1.25.2-p0")
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
}
