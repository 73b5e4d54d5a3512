package io.quarkiverse.busaltconnection.deployment.devservices;

import java.util.List;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

import io.quarkus.devservices.common.ConfigureUtil;
import io.quarkus.runtime.LaunchMode;

/**
 * PostgreSQL and PgBouncer containers on one network; PgBouncer reaches PostgreSQL by its network alias, the
 * application reaches both through their mapped ports.
 */
final class ContainerPoolerStack implements PoolerStack {

    static final String POSTGRES_LABEL = "quarkus-dev-service-imdispatcher-postgres";
    static final String PGBOUNCER_LABEL = "quarkus-dev-service-imdispatcher-pgbouncer";
    static final int POSTGRES_PORT = 5432;
    static final int PGBOUNCER_PORT = 6432;
    private static final String CONFIG_DIR = "/etc/pgbouncer/";

    private final StackSettings settings;
    private final LaunchMode launchMode;
    private Network network;
    private Container postgres;
    private Container pgbouncer;

    ContainerPoolerStack(StackSettings settings, LaunchMode launchMode) {
        this.settings = settings;
        this.launchMode = launchMode;
    }

    @Override
    public void start() {
        network = Network.newNetwork();
        postgres = new Container(settings.postgresImage())
                .withNetwork(network)
                .withNetworkAliases("postgres")
                .withEnv("POSTGRES_USER", settings.username())
                .withEnv("POSTGRES_PASSWORD", settings.password())
                .withEnv("POSTGRES_DB", settings.dbName())
                .withExposedPorts(POSTGRES_PORT)
                // The official image logs it twice: after the init scripts, and when really up.
                .waitingFor(Wait.forLogMessage(".*database system is ready to accept connections.*\\s", 2));
        settings.postgresPort().ifPresent(port -> postgres.setPortBindings(List.of(port + ":" + POSTGRES_PORT)));
        pgbouncer = new Container(settings.pgbouncerImage())
                .withNetwork(network)
                .withCopyToContainer(Transferable.of(settings.pgbouncerIni("postgres", POSTGRES_PORT, PGBOUNCER_PORT,
                        CONFIG_DIR + "userlist.txt", "listen_addr = 0.0.0.0")), CONFIG_DIR + "pgbouncer.ini")
                .withCopyToContainer(Transferable.of(settings.userList()), CONFIG_DIR + "userlist.txt")
                .withExposedPorts(PGBOUNCER_PORT)
                .dependsOn(postgres)
                .waitingFor(Wait.forListeningPort());
        settings.pgbouncerPort().ifPresent(port -> pgbouncer.setPortBindings(List.of(port + ":" + PGBOUNCER_PORT)));
        if (settings.shared()) {
            ConfigureUtil.configureSharedServiceLabel(postgres, launchMode, POSTGRES_LABEL, settings.serviceName());
            ConfigureUtil.configureSharedServiceLabel(pgbouncer, launchMode, PGBOUNCER_LABEL, settings.serviceName());
        }
        ConfigureUtil.configureLabels(postgres, launchMode);
        ConfigureUtil.configureLabels(pgbouncer, launchMode);
        pgbouncer.start();
    }

    @Override
    public String host() {
        return postgres.getHost();
    }

    @Override
    public int postgresPort() {
        return postgres.getMappedPort(POSTGRES_PORT);
    }

    @Override
    public int pgbouncerPort() {
        return pgbouncer.getMappedPort(PGBOUNCER_PORT);
    }

    @Override
    public String getConnectionInfo() {
        return "PgBouncer " + host() + ":" + pgbouncerPort() + " (pool_mode " + settings.poolMode()
                + ") -> PostgreSQL " + host() + ":" + postgresPort() + ", containers";
    }

    @Override
    public String getContainerId() {
        return pgbouncer.getContainerId();
    }

    @Override
    public void close() {
        if (pgbouncer != null) {
            pgbouncer.stop();
        }
        if (postgres != null) {
            postgres.stop();
        }
        if (network != null) {
            network.close();
        }
    }

    /** Self-typed, as Quarkus's label helpers want. */
    private static final class Container extends GenericContainer<Container> {
        Container(String image) {
            super(DockerImageName.parse(image));
        }
    }
}
