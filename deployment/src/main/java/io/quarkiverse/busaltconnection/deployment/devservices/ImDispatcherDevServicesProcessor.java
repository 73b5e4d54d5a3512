package io.quarkiverse.busaltconnection.deployment.devservices;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.deployment.BusAltConnectionProcessor;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig.DevServices.Mode;
import io.quarkus.datasource.common.runtime.DataSourceUtil;
import io.quarkus.datasource.common.runtime.DatabaseKind;
import io.quarkus.datasource.deployment.spi.DevServicesDatasourceConfigurationHandlerBuildItem;
import io.quarkus.deployment.IsNormal;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.BuildSteps;
import io.quarkus.deployment.builditem.DevServicesResultBuildItem;
import io.quarkus.deployment.builditem.DockerStatusBuildItem;
import io.quarkus.deployment.builditem.LaunchModeBuildItem;
import io.quarkus.deployment.dev.devservices.DevServicesConfig;
import io.quarkus.devservices.common.ContainerLocator;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.configuration.ConfigUtils;

/**
 * Dev Services: PostgreSQL with PgBouncer in front, in containers or from the machine's binaries, wired into the
 * application as a production deployment is: the datasource to PgBouncer, the listener to PostgreSQL.
 */
@BuildSteps(onlyIfNot = IsNormal.class, onlyIf = DevServicesConfig.Enabled.class)
class ImDispatcherDevServicesProcessor {

    private static final Logger LOG = Logger.getLogger(ImDispatcherDevServicesProcessor.class);

    /**
     * Quarkus's datasource Dev Service asks every handler of the db kind whether the datasource is configured, and
     * stands down if one says so: ours says yes for the bus's datasource when these Dev Services provide it, so
     * exactly one PostgreSQL is started for it.
     */
    @BuildStep
    DevServicesDatasourceConfigurationHandlerBuildItem datasourceDevServiceStandsDown(
            ImDispatcherBuildTimeConfig buildConfig) {
        String bus = buildConfig.datasourceName();
        ImDispatcherBuildTimeConfig.DevServices config = buildConfig.devServices();
        boolean ours = provides(config, bus);
        return new DevServicesDatasourceConfigurationHandlerBuildItem(DatabaseKind.POSTGRESQL,
                (name, running) -> Map.of(), name -> Map.of(), name -> ours && name.equals(bus));
    }

    @BuildStep
    DevServicesResultBuildItem devServices(ImDispatcherBuildTimeConfig buildConfig,
            DevServicesConfig devServices, DockerStatusBuildItem containerRuntime, LaunchModeBuildItem launchModeItem) {
        DataSourceKeys keys = new DataSourceKeys(buildConfig.datasourceName());
        ImDispatcherBuildTimeConfig.DevServices config = buildConfig.devServices();
        if (!provides(config, keys.name())) {
            LOG.debugf("Not starting Dev Services for Bus Alt Connection: %s", config.enabled()
                    ? keys.jdbcUrl() + " is set"
                    : "quarkus.imdispatcher.devservices.enabled is false");
            return null;
        }
        StackSettings settings = StackSettings.of(config);
        LaunchMode launchMode = launchModeItem.getLaunchMode();
        boolean share = settings.shared() && launchMode == LaunchMode.DEVELOPMENT;
        Duration readyTimeout = devServices.timeout().orElse(Duration.ofSeconds(60));

        Mode mode = config.mode();
        Optional<String> trace = mode == Mode.AUTO ? ContainerRuntimeTraces.find() : Optional.empty();
        boolean containers = (mode == Mode.CONTAINER || trace.isPresent())
                && containerRuntime.isContainerRuntimeAvailable();
        if (mode == Mode.AUTO) {
            LOG.infof("Dev Services for Bus Alt Connection: %s", containers
                    ? "containers (a container runtime answers at " + trace.get() + ")"
                    : "the machine's own PostgreSQL and PgBouncer binaries (" + (trace.isEmpty()
                            ? "no container runtime: no DOCKER_HOST, no Docker or Podman socket"
                            : "no container runtime answers at " + trace.get())
                            + "); quarkus.imdispatcher.devservices.mode chooses");
        }
        if (!containers && launchMode == LaunchMode.DEVELOPMENT
                && (mode == Mode.AUTO ? trace : ContainerRuntimeTraces.find()).isEmpty()) {
            ContainerRuntimeTraces.quietenTestcontainersSearch();
        }
        if (containers) {
            Optional<DevServicesResultBuildItem> found = share ? sharedContainers(keys, settings, launchMode)
                    : Optional.empty();
            return found.orElseGet(() -> owned(keys, settings, () -> new ContainerPoolerStack(settings, launchMode)));
        }
        LocalBinaries.Lookup lookup = LocalBinaries.lookup();
        if (mode == Mode.CONTAINER || lookup.binaries().isEmpty()) {
            throw new IllegalStateException(cannotStart(mode, lookup, keys));
        }
        if (share) {
            Optional<SharedLocalStacks.Entry> found = SharedLocalStacks.find(settings.serviceName());
            if (found.isPresent()) {
                SharedLocalStacks.Entry entry = found.get();
                LOG.infof("Dev Services for Bus Alt Connection: using the shared local PgBouncer %s:%d and"
                        + " PostgreSQL %s:%d (service name %s)", entry.host(), entry.pgbouncerPort(), entry.host(),
                        entry.postgresPort(), settings.serviceName());
                return discovered(keys, null, entry.host(), entry.postgresPort(), entry.pgbouncerPort(), entry.dbName(),
                        entry.username(), entry.password());
            }
        }
        LocalBinaries binaries = lookup.binaries().get();
        return owned(keys, settings, () -> new LocalPoolerStack(binaries, settings, share, readyTimeout));
    }

    /** Not when the bus's datasource has a URL: then the application brings its own servers. */
    private static boolean provides(ImDispatcherBuildTimeConfig.DevServices config, String dataSource) {
        return config.enabled() && DataSourceUtil.dataSourcePropertyKeys(dataSource, "jdbc.url").stream()
                .noneMatch(ConfigUtils::isPropertyNonEmpty);
    }

    private static DevServicesResultBuildItem owned(DataSourceKeys keys, StackSettings settings,
            Supplier<PoolerStack> stack) {
        return DevServicesResultBuildItem.<PoolerStack> owned()
                .feature(BusAltConnectionProcessor.FEATURE)
                .serviceName(settings.serviceName())
                // Equal settings across a live reload keep the running servers.
                .serviceConfig(settings.fingerprint())
                .startable(stack)
                .postStartHook(started -> LOG.infof("Dev Services for Bus Alt Connection started: %s",
                        started.getConnectionInfo()))
                .configProvider(Map.<String, Function<PoolerStack, String>> of(
                        keys.jdbcUrl(), started -> jdbcUrl(started.host(), started.pgbouncerPort(), settings.dbName()),
                        keys.reactiveUrl(), started -> reactiveUrl(started.host(), started.pgbouncerPort(),
                                settings.dbName()),
                        keys.username(), started -> settings.username(),
                        keys.password(), started -> settings.password(),
                        "quarkus.imdispatcher.db-host", PoolerStack::host,
                        "quarkus.imdispatcher.db-port", started -> String.valueOf(started.postgresPort()),
                        NO_TLS.getKey(), started -> NO_TLS.getValue(),
                        // Its admin console, for the pool statistics: the user is in stats_users.
                        "quarkus.imdispatcher.pgbouncer.host", PoolerStack::host,
                        "quarkus.imdispatcher.pgbouncer.port", started -> String.valueOf(started.pgbouncerPort())))
                .build();
    }

    /**
     * The PostgreSQL these Dev Services start has no TLS: the direct connections' default, {@code prefer}, would open
     * a socket for a refused TLS request before each real one.
     */
    private static final Map.Entry<String, String> NO_TLS = Map.entry("quarkus.imdispatcher.ssl-mode", "disable");

    private static Optional<DevServicesResultBuildItem> sharedContainers(DataSourceKeys keys, StackSettings settings,
            LaunchMode mode) {
        var pgbouncer = new ContainerLocator(ContainerPoolerStack.PGBOUNCER_LABEL, ContainerPoolerStack.PGBOUNCER_PORT)
                .locateContainer(settings.serviceName(), true, mode);
        var postgres = new ContainerLocator(ContainerPoolerStack.POSTGRES_LABEL, ContainerPoolerStack.POSTGRES_PORT)
                .locateContainer(settings.serviceName(), true, mode);
        if (pgbouncer.isEmpty() || postgres.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(discovered(keys, pgbouncer.get().getId(), postgres.get().getHost(), postgres.get().getPort(),
                pgbouncer.get().getPort(), settings.dbName(), settings.username(), settings.password()));
    }

    private static DevServicesResultBuildItem discovered(DataSourceKeys keys, String containerId, String host,
            int postgresPort, int pgbouncerPort, String dbName, String username, String password) {
        return DevServicesResultBuildItem.discovered()
                .feature(BusAltConnectionProcessor.FEATURE)
                .containerId(containerId)
                .config(Map.of(
                        keys.jdbcUrl(), jdbcUrl(host, pgbouncerPort, dbName),
                        keys.reactiveUrl(), reactiveUrl(host, pgbouncerPort, dbName),
                        keys.username(), username,
                        keys.password(), password,
                        "quarkus.imdispatcher.db-host", host,
                        "quarkus.imdispatcher.db-port", String.valueOf(postgresPort),
                        NO_TLS.getKey(), NO_TLS.getValue(),
                        "quarkus.imdispatcher.pgbouncer.host", host,
                        "quarkus.imdispatcher.pgbouncer.port", String.valueOf(pgbouncerPort)))
                .build();
    }

    /** The keys of the bus's datasource that these Dev Services set. */
    record DataSourceKeys(String name) {
        String jdbcUrl() {
            return DataSourceUtil.dataSourcePropertyKey(name, "jdbc.url");
        }

        /** The application's reactive client of the same datasource goes through PgBouncer too. */
        String reactiveUrl() {
            return DataSourceUtil.dataSourcePropertyKey(name, "reactive.url");
        }

        String username() {
            return DataSourceUtil.dataSourcePropertyKey(name, "username");
        }

        String password() {
            return DataSourceUtil.dataSourcePropertyKey(name, "password");
        }
    }

    private static String jdbcUrl(String host, int port, String dbName) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + dbName;
    }

    private static String reactiveUrl(String host, int port, String dbName) {
        return "postgresql://" + host + ":" + port + "/" + dbName;
    }

    static String cannotStart(Mode mode, LocalBinaries.Lookup lookup, DataSourceKeys keys) {
        String fix = " Or point the application at servers of your own: set " + keys.jdbcUrl() + " (to PgBouncer) and"
                + " quarkus.imdispatcher.db-host / db-port (to PostgreSQL), or turn these Dev Services off with"
                + " quarkus.imdispatcher.devservices.enabled=false.";
        return switch (mode) {
            case CONTAINER -> "Dev Services for Bus Alt Connection cannot start: quarkus.imdispatcher.devservices.mode"
                    + " is container, and no container runtime is available. Start Docker or Podman, or set the mode"
                    + " to local or auto to use the binaries of this machine." + fix;
            case LOCAL -> "Dev Services for Bus Alt Connection cannot start: quarkus.imdispatcher.devservices.mode is"
                    + " local, and this machine lacks " + lookup.missing() + ". Install them (Debian: apt-get install"
                    + " -y postgresql pgbouncer)." + fix;
            case AUTO -> "Dev Services for Bus Alt Connection cannot start: no container runtime is available, and"
                    + " this machine lacks " + lookup.missing() + " to run them locally. Start Docker or Podman, or"
                    + " install them (Debian: apt-get install -y postgresql pgbouncer)." + fix;
        };
    }
}
