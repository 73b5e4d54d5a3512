package io.quarkiverse.busaltconnection.deployment.devservices;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.deployment.BusAltConnectionProcessor;
import io.quarkiverse.busaltconnection.deployment.devservices.ImDispatcherDevServicesConfig.Mode;
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

    private static final String JDBC_URL = "quarkus.datasource.jdbc.url";
    private static final Logger LOG = Logger.getLogger(ImDispatcherDevServicesProcessor.class);

    /**
     * Quarkus's datasource Dev Service asks every handler of the db kind whether the datasource is configured, and
     * stands down if one says so: ours says yes for the default datasource when these Dev Services provide it, so
     * exactly one PostgreSQL is started.
     */
    @BuildStep
    DevServicesDatasourceConfigurationHandlerBuildItem datasourceDevServiceStandsDown(
            ImDispatcherDevServicesConfig config) {
        boolean ours = provides(config);
        return new DevServicesDatasourceConfigurationHandlerBuildItem(DatabaseKind.POSTGRESQL,
                (name, running) -> Map.of(), name -> Map.of(), name -> ours && DataSourceUtil.isDefault(name));
    }

    @BuildStep
    DevServicesResultBuildItem devServices(ImDispatcherDevServicesConfig config, DevServicesConfig devServices,
            DockerStatusBuildItem containerRuntime, LaunchModeBuildItem launchModeItem) {
        if (!provides(config)) {
            LOG.debugf("Not starting Dev Services for Bus Alt Connection: %s", config.enabled()
                    ? JDBC_URL + " is set" : "quarkus.imdispatcher.devservices.enabled is false");
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
        if (containers) {
            Optional<DevServicesResultBuildItem> found = share ? sharedContainers(settings, launchMode)
                    : Optional.empty();
            return found.orElseGet(() -> owned(settings, () -> new ContainerPoolerStack(settings, launchMode)));
        }
        LocalBinaries.Lookup lookup = LocalBinaries.lookup();
        if (mode == Mode.CONTAINER || lookup.binaries().isEmpty()) {
            throw new IllegalStateException(cannotStart(mode, lookup));
        }
        if (share) {
            Optional<SharedLocalStacks.Entry> found = SharedLocalStacks.find(settings.serviceName());
            if (found.isPresent()) {
                SharedLocalStacks.Entry entry = found.get();
                LOG.infof("Dev Services for Bus Alt Connection: using the shared local PgBouncer %s:%d and"
                        + " PostgreSQL %s:%d (service name %s)", entry.host(), entry.pgbouncerPort(), entry.host(),
                        entry.postgresPort(), settings.serviceName());
                return discovered(null, entry.host(), entry.postgresPort(), entry.pgbouncerPort(), entry.dbName(),
                        entry.username(), entry.password());
            }
        }
        LocalBinaries binaries = lookup.binaries().get();
        return owned(settings, () -> new LocalPoolerStack(binaries, settings, share, readyTimeout));
    }

    private static boolean provides(ImDispatcherDevServicesConfig config) {
        return config.enabled() && !ConfigUtils.isPropertyNonEmpty(JDBC_URL);
    }

    private static DevServicesResultBuildItem owned(StackSettings settings, Supplier<PoolerStack> stack) {
        return DevServicesResultBuildItem.<PoolerStack> owned()
                .feature(BusAltConnectionProcessor.FEATURE)
                .serviceName(settings.serviceName())
                // Equal settings across a live reload keep the running servers.
                .serviceConfig(settings.fingerprint())
                .startable(stack)
                .postStartHook(started -> LOG.infof("Dev Services for Bus Alt Connection started: %s",
                        started.getConnectionInfo()))
                .configProvider(Map.<String, Function<PoolerStack, String>> of(
                        JDBC_URL, started -> jdbcUrl(started.host(), started.pgbouncerPort(), settings.dbName()),
                        "quarkus.datasource.username", started -> settings.username(),
                        "quarkus.datasource.password", started -> settings.password(),
                        "quarkus.imdispatcher.db-host", PoolerStack::host,
                        "quarkus.imdispatcher.db-port", started -> String.valueOf(started.postgresPort())))
                .build();
    }

    private static Optional<DevServicesResultBuildItem> sharedContainers(StackSettings settings, LaunchMode mode) {
        var pgbouncer = new ContainerLocator(ContainerPoolerStack.PGBOUNCER_LABEL, ContainerPoolerStack.PGBOUNCER_PORT)
                .locateContainer(settings.serviceName(), true, mode);
        var postgres = new ContainerLocator(ContainerPoolerStack.POSTGRES_LABEL, ContainerPoolerStack.POSTGRES_PORT)
                .locateContainer(settings.serviceName(), true, mode);
        if (pgbouncer.isEmpty() || postgres.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(discovered(pgbouncer.get().getId(), postgres.get().getHost(), postgres.get().getPort(),
                pgbouncer.get().getPort(), settings.dbName(), settings.username(), settings.password()));
    }

    private static DevServicesResultBuildItem discovered(String containerId, String host, int postgresPort,
            int pgbouncerPort, String dbName, String username, String password) {
        return DevServicesResultBuildItem.discovered()
                .feature(BusAltConnectionProcessor.FEATURE)
                .containerId(containerId)
                .config(Map.of(
                        JDBC_URL, jdbcUrl(host, pgbouncerPort, dbName),
                        "quarkus.datasource.username", username,
                        "quarkus.datasource.password", password,
                        "quarkus.imdispatcher.db-host", host,
                        "quarkus.imdispatcher.db-port", String.valueOf(postgresPort)))
                .build();
    }

    private static String jdbcUrl(String host, int port, String dbName) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + dbName;
    }

    static String cannotStart(Mode mode, LocalBinaries.Lookup lookup) {
        String fix = " Or point the application at servers of your own: set " + JDBC_URL + " (to PgBouncer) and"
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
