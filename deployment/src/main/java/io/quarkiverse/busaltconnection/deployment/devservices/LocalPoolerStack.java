package io.quarkiverse.busaltconnection.deployment.devservices;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

/**
 * PostgreSQL and PgBouncer from this machine's binaries, in a temporary directory (see {@link LocalRuns}), on
 * loopback ports, as an unprivileged user when running as root (see {@link ServiceUser}).
 */
final class LocalPoolerStack implements PoolerStack {

    private static final Logger LOG = Logger.getLogger(LocalPoolerStack.class);
    private static final String HOST = "127.0.0.1";

    private final LocalBinaries binaries;
    private final StackSettings settings;
    private final boolean register;
    private final Duration readyTimeout;
    private Path directory;
    private int postgresPort;
    private int pgbouncerPort;
    private Process postgres;
    private Process pgbouncer;
    /**
     * Quarkus does not close owned Dev Services when a test JVM exits, and these servers are processes outside
     * it: stop them when the JVM ends, whichever way it ends normally. After a crash, {@link LocalRuns} cleans up.
     */
    private final Thread stopAtExit = new Thread(this::stopAll, "imdispatcher-devservices-stop");

    /**
     * @param register whether to register the servers for other applications ({@code shared} in dev mode)
     */
    LocalPoolerStack(LocalBinaries binaries, StackSettings settings, boolean register, Duration readyTimeout) {
        this.binaries = binaries;
        this.settings = settings;
        this.register = register;
        this.readyTimeout = readyTimeout;
    }

    @Override
    public void start() {
        LocalRuns.cleanStale();
        Runtime.getRuntime().addShutdownHook(stopAtExit);
        try {
            directory = LocalRuns.create(settings.serviceName());
            postgresPort = settings.postgresPort().orElse(freePort());
            pgbouncerPort = settings.pgbouncerPort().orElse(freePort());
            startPostgres();
            startPgBouncer();
            if (register) {
                SharedLocalStacks.register(settings.serviceName(), new SharedLocalStacks.Entry(HOST, postgresPort,
                        pgbouncerPort, settings.dbName(), settings.username(), settings.password()));
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public String host() {
        return HOST;
    }

    @Override
    public int postgresPort() {
        return postgresPort;
    }

    @Override
    public int pgbouncerPort() {
        return pgbouncerPort;
    }

    @Override
    public String getConnectionInfo() {
        return "PgBouncer " + HOST + ":" + pgbouncerPort + " (pool_mode " + settings.poolMode() + ") -> PostgreSQL "
                + HOST + ":" + postgresPort + ", local processes in " + directory;
    }

    @Override
    public String getContainerId() {
        return null;
    }

    private void startPostgres() throws IOException {
        Path data = directory.resolve("data");
        Path passwordFile = directory.resolve("password");
        Files.writeString(passwordFile, settings.password());
        ServiceUser.handOver(directory);
        ServiceUser.handOver(passwordFile);
        run(List.of(binaries.postgresBin().resolve("initdb").toString(), "-D", data.toString(), "-U",
                settings.username(), "--pwfile=" + passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C"), "initdb.log");
        Files.delete(passwordFile);
        postgres = launch(List.of(binaries.postgresBin().resolve("postgres").toString(), "-D", data.toString(),
                "-p", String.valueOf(postgresPort), "-k", directory.toString(),
                "-c", "listen_addresses=" + HOST,
                // Throwaway data: durability only costs time here.
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=" + Math.max(100, settings.defaultPoolSize() * 4 + 20)), "postgres.log");
        awaitSql("jdbc:postgresql://" + HOST + ":" + postgresPort + "/postgres", postgres, "postgres.log");
        try (Connection connection = DriverManager.getConnection(
                "jdbc:postgresql://" + HOST + ":" + postgresPort + "/postgres", settings.username(),
                settings.password());
                Statement statement = connection.createStatement()) {
            // An identifier from build-time configuration, quoted as one.
            statement.execute("CREATE DATABASE \"" + settings.dbName().replace("\"", "\"\"") + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create database " + settings.dbName(), e);
        }
    }

    private void startPgBouncer() throws IOException {
        Path users = directory.resolve("userlist.txt");
        Files.writeString(users, settings.userList());
        Path ini = directory.resolve("pgbouncer.ini");
        Files.writeString(ini, settings.pgbouncerIni(HOST, postgresPort, pgbouncerPort, users.toString(),
                String.join("\n", "listen_addr = " + HOST, "unix_socket_dir =",
                        "pidfile = " + directory.resolve("pgbouncer.pid"))),
                StandardCharsets.UTF_8);
        ServiceUser.handOver(users);
        ServiceUser.handOver(ini);
        pgbouncer = launch(List.of(binaries.pgbouncer().toString(), ini.toString()), "pgbouncer.log");
        awaitSql("jdbc:postgresql://" + HOST + ":" + pgbouncerPort + "/" + settings.dbName() + "?prepareThreshold=0",
                pgbouncer, "pgbouncer.log");
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(stopAtExit);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // The JVM is already shutting down (the hook runs), or the hook was never added.
        }
        stopAll();
    }

    private synchronized void stopAll() {
        if (register) {
            SharedLocalStacks.unregister(settings.serviceName());
        }
        stop(pgbouncer);
        stop(postgres);
        if (directory != null) {
            // Servers restarted by hand (pg_ctl, an operator, a fault-injection test) are not the processes this
            // stack launched: stop what the pid files name too.
            LocalRuns.stopServers(directory);
            LocalRuns.delete(directory);
            directory = null;
        }
    }

    private static void stop(Process process) {
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            // SIGINT: PostgreSQL's "fast" shutdown (SIGTERM waits for clients); PgBouncer exits on it as well.
            new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private Process launch(List<String> command, String log) throws IOException {
        return new ProcessBuilder(ServiceUser.wrap(command)).directory(directory.toFile())
                .redirectErrorStream(true).redirectOutput(directory.resolve(log).toFile()).start();
    }

    private void run(List<String> command, String log) throws IOException {
        Process process = launch(command, log);
        try {
            if (process.waitFor() != 0) {
                throw new IllegalStateException(command.get(0) + " failed:\n" + tail(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private void awaitSql(String url, Process server, String log) {
        Instant deadline = Instant.now().plus(readyTimeout);
        SQLException last = null;
        while (Instant.now().isBefore(deadline)) {
            if (!server.isAlive()) {
                throw new IllegalStateException("The server exited; end of " + log + ":\n" + tail(log));
            }
            try (Connection connection = DriverManager.getConnection(url, settings.username(), settings.password());
                    Statement statement = connection.createStatement()) {
                statement.execute("SELECT 1");
                return;
            } catch (SQLException e) {
                last = e;
                LOG.tracef("Not ready yet at %s: %s", url, e.getMessage());
                sleep(100);
            }
        }
        throw new IllegalStateException("Not ready within " + readyTimeout.toSeconds() + " s at " + url
                + "; end of " + log + ":\n" + tail(log), last);
    }

    private String tail(String log) {
        try {
            List<String> lines = Files.readAllLines(directory.resolve(log));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no " + log + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(HOST, 0));
            return socket.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
