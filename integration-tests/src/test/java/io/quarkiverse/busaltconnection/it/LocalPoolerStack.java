package io.quarkiverse.busaltconnection.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A real PostgreSQL and a real PgBouncer (pool_mode = transaction) in front of it, run from the binaries installed
 * on this machine, in a temporary directory, on free loopback ports. Both refuse to run as root, so as root they are
 * started as the {@code postgres} system user (or {@code nobody}) through {@code setpriv}, which execs in place: the
 * process handle is the server itself and stopping it stops the server.
 */
public final class LocalPoolerStack implements AutoCloseable {

    public static final String USER = "quarkus";
    public static final String PASSWORD = "quarkus";
    public static final String DATABASE = "quarkus";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final Path directory;
    private final int postgresPort;
    private final int pgbouncerPort;
    private Process postgres;
    private Process pgbouncer;

    private LocalPoolerStack(Path directory, int postgresPort, int pgbouncerPort) {
        this.directory = directory;
        this.postgresPort = postgresPort;
        this.pgbouncerPort = pgbouncerPort;
    }

    public static LocalPoolerStack start() {
        Path binaries = postgresBinaries();
        Path pgbouncerBinary = onPath("pgbouncer").or(() -> existing(Path.of("/usr/sbin/pgbouncer")))
                .orElseThrow(() -> new IllegalStateException("pgbouncer not found on PATH or in /usr/sbin:"
                        + " install it (Debian: apt-get install -y pgbouncer)"));
        try {
            Path directory = Files.createTempDirectory("bus-alt-connection-stack-");
            LocalPoolerStack stack = new LocalPoolerStack(directory, freePort(), freePort());
            try {
                stack.startPostgres(binaries);
                stack.startPgBouncer(pgbouncerBinary);
            } catch (RuntimeException | IOException e) {
                stack.close();
                throw e;
            }
            return stack;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int postgresPort() {
        return postgresPort;
    }

    public int pgbouncerPort() {
        return pgbouncerPort;
    }

    public String postgresJdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + postgresPort + "/" + DATABASE;
    }

    public String pgbouncerJdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + pgbouncerPort + "/" + DATABASE;
    }


    private void startPostgres(Path bin) throws IOException {
        Path data = directory.resolve("data");
        Path passwordFile = directory.resolve("password");
        Files.writeString(passwordFile, PASSWORD);
        handOver(directory);
        handOver(passwordFile);
        run(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER, "--pwfile=" + passwordFile,
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"), "initdb.log");
        postgres = launch(List.of(bin.resolve("postgres").toString(), "-D", data.toString(),
                "-p", String.valueOf(postgresPort), "-k", directory.toString(),
                "-c", "listen_addresses=127.0.0.1",
                // Throwaway data: durability only costs time here.
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200"), "postgres.log");
        awaitSql("jdbc:postgresql://127.0.0.1:" + postgresPort + "/postgres", postgres, "postgres.log");
        try (Connection connection = DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + postgresPort + "/postgres", USER, PASSWORD);
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + DATABASE);
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create database " + DATABASE, e);
        }
    }

    private void startPgBouncer(Path binary) throws IOException {
        Path users = directory.resolve("userlist.txt");
        Files.writeString(users, "\"" + USER + "\" \"" + PASSWORD + "\"\n");
        Path ini = directory.resolve("pgbouncer.ini");
        Files.writeString(ini, String.join("\n",
                "[databases]",
                "* = host=127.0.0.1 port=" + postgresPort,
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + pgbouncerPort,
                "unix_socket_dir =",
                "auth_type = scram-sha-256",
                "auth_file = " + users,
                "pool_mode = transaction",
                "default_pool_size = 5",
                "max_client_conn = 500",
                // pgjdbc sends it at startup; PgBouncer refuses unknown startup parameters otherwise.
                "ignore_startup_parameters = extra_float_digits",
                "admin_users = " + USER,
                "stats_users = " + USER,
                "pidfile = " + directory.resolve("pgbouncer.pid"),
                ""), StandardCharsets.UTF_8);
        handOver(users);
        handOver(ini);
        pgbouncer = launch(List.of(binary.toString(), ini.toString()), "pgbouncer.log");
        awaitSql("jdbc:postgresql://127.0.0.1:" + pgbouncerPort + "/" + DATABASE + "?prepareThreshold=0", pgbouncer,
                "pgbouncer.log");
    }

    @Override
    public void close() {
        stop(pgbouncer);
        stop(postgres);
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // Best effort: a temp directory left behind is noise, not a failure.
        }
    }

    private static void stop(Process process) {
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            // SIGINT: PostgreSQL's "fast" shutdown (SIGTERM waits for clients); PgBouncer exits on it too.
            new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
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
        return new ProcessBuilder(asServiceUser(command)).directory(directory.toFile())
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
        Instant deadline = Instant.now().plus(READY_TIMEOUT);
        SQLException last = null;
        while (Instant.now().isBefore(deadline)) {
            if (!server.isAlive()) {
                throw new IllegalStateException(log + " shows the server exited:\n" + tail(log));
            }
            try (Connection connection = DriverManager.getConnection(url, USER, PASSWORD);
                    Statement statement = connection.createStatement()) {
                statement.execute("SELECT 1");
                return;
            } catch (SQLException e) {
                last = e;
                sleep(100);
            }
        }
        throw new IllegalStateException("Not ready within " + READY_TIMEOUT + " at " + url + ":\n" + tail(log), last);
    }

    private String tail(String log) {
        try {
            List<String> lines = Files.readAllLines(directory.resolve(log));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no " + log + ")";
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static String serviceUser() {
        return userExists("postgres") ? "postgres" : "nobody";
    }

    private static List<String> asServiceUser(List<String> command) {
        if (!isRoot()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + serviceUser(),
                "--regid=" + primaryGroup(serviceUser()), "--init-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    private static void handOver(Path path) throws IOException {
        if (isRoot()) {
            UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
            Files.setOwner(path, lookup.lookupPrincipalByName(serviceUser()));
        }
    }

    private static boolean userExists(String user) {
        return output(List.of("id", "-u", user)).isPresent();
    }

    private static String primaryGroup(String user) {
        return output(List.of("id", "-g", user)).orElseThrow();
    }

    private static Path postgresBinaries() {
        Optional<Path> found = onPath("initdb").map(Path::getParent)
                .or(() -> output(List.of("pg_config", "--bindir")).map(Path::of)
                        .filter(dir -> Files.isExecutable(dir.resolve("initdb"))))
                .or(LocalPoolerStack::debianLayout);
        return found.orElseThrow(() -> new IllegalStateException("PostgreSQL server binaries (initdb, postgres) not"
                + " found on PATH, via pg_config --bindir, or under /usr/lib/postgresql/*/bin: install them"
                + " (Debian: apt-get install -y postgresql)"));
    }

    private static Optional<Path> debianLayout() {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.map(version -> version.resolve("bin"))
                    .filter(bin -> Files.isExecutable(bin.resolve("initdb")))
                    .max(Comparator.comparingInt(bin -> Integer.parseInt(bin.getParent().getFileName().toString()
                            .replaceAll("\\D", "0"))));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> onPath(String name) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .filter(dir -> !dir.isEmpty()).map(dir -> Path.of(dir, name)).filter(Files::isExecutable)
                .findFirst();
    }

    private static Optional<Path> existing(Path path) {
        return Files.isExecutable(path) ? Optional.of(path) : Optional.empty();
    }

    private static Optional<String> output(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return process.waitFor() == 0 && !out.isEmpty() ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
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
